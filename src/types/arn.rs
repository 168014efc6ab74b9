//! ARNs, parsed once: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`. The typed views (a Lambda
//! function, an IAM role) check their service and resource, so no caller splits on ':' again.

use super::names::{check_function_name, is_account};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Any ARN this deployer reads. Every part but the region is required; the account is 12 digits
/// (the services it talks about — Lambda, IAM, SNS — always name one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Arn {
    text: String,
    /// Byte offsets of the five ':' after "arn": the parts sit between them.
    colons: [usize; 5],
}

impl Arn {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn part(&self, i: usize) -> &str {
        let start = self.colons[i] + 1;
        let end = self.colons.get(i + 1).copied().unwrap_or(self.text.len());
        &self.text[start..end]
    }

    pub fn partition(&self) -> &str {
        self.part(0)
    }

    pub fn service(&self) -> &str {
        self.part(1)
    }

    /// Empty for global services (IAM).
    pub fn region(&self) -> &str {
        self.part(2)
    }

    pub fn account(&self) -> &str {
        self.part(3)
    }

    /// Everything after the account, ':' included (`function:api:live`).
    pub fn resource(&self) -> &str {
        self.part(4)
    }
}

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl FromStr for Arn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::try_from(s.to_owned())
    }
}

impl TryFrom<String> for Arn {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let s = text.as_str();
        if !s.starts_with("arn:") {
            return Err(format!("{s:?} is not an ARN: it must start with \"arn:\""));
        }
        // The resource may hold ':' itself, so only the first five separators count.
        let mut colons = [0; 5];
        let mut found = s.match_indices(':').map(|(i, _)| i);
        for c in &mut colons {
            *c = found.next().ok_or_else(|| {
                format!(
                    "{s:?} is not an ARN: it must be arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE"
                )
            })?;
        }
        let arn = Self { text, colons };
        let s = arn.as_str();
        if !is_word(arn.partition()) {
            return Err(format!(
                "{s:?} is not an ARN: the partition {:?} is not one (aws, aws-cn, aws-us-gov, …)",
                arn.partition()
            ));
        }
        if !is_word(arn.service()) {
            return Err(format!(
                "{s:?} is not an ARN: the service {:?} is not a service name",
                arn.service()
            ));
        }
        if !arn.region().is_empty() && super::Region::parse(arn.region()).is_err() {
            return Err(format!(
                "{s:?} is not an ARN: the region {:?} is not an AWS region name",
                arn.region()
            ));
        }
        if !is_account(arn.account()) {
            return Err(format!(
                "{s:?} is not an ARN: the account {:?} is not a 12-digit AWS account id",
                arn.account()
            ));
        }
        if arn.resource().is_empty() {
            return Err(format!("{s:?} is not an ARN: it names no resource"));
        }
        Ok(arn)
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Arn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// A Lambda function's ARN: `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FunctionArn(Arn);

impl FunctionArn {
    pub fn arn(&self) -> &Arn {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn region(&self) -> &str {
        self.0.region()
    }

    pub fn account(&self) -> &str {
        self.0.account()
    }

    /// `function:NAME[:QUALIFIER]` without the leading `function:` (checked when parsed).
    fn name_and_qualifier(&self) -> (&str, Option<&str>) {
        let rest = &self.0.resource()["function:".len()..];
        match rest.split_once(':') {
            Some((name, q)) => (name, Some(q)),
            None => (rest, None),
        }
    }

    pub fn name(&self) -> &str {
        self.name_and_qualifier().0
    }

    /// The version or alias after the name, if any.
    pub fn qualifier(&self) -> Option<&str> {
        self.name_and_qualifier().1
    }

    pub fn is_qualified(&self) -> bool {
        self.qualifier().is_some()
    }

    /// The same function without its qualifier (what TagResource and schedules take).
    pub fn unqualified(&self) -> FunctionArn {
        match self.qualifier() {
            None => self.clone(),
            Some(q) => {
                let text = &self.as_str()[..self.as_str().len() - q.len() - 1];
                Self(Arn {
                    text: text.to_owned(),
                    colons: self.0.colons,
                })
            }
        }
    }
}

impl TryFrom<Arn> for FunctionArn {
    type Error = String;
    fn try_from(arn: Arn) -> Result<Self, String> {
        let s = arn.as_str();
        if arn.service() != "lambda" {
            return Err(format!(
                "{s:?} is not a Lambda function ARN: the service is {:?}, not \"lambda\"",
                arn.service()
            ));
        }
        if arn.region().is_empty() {
            return Err(format!(
                "{s:?} is not a Lambda function ARN: it names no region"
            ));
        }
        let Some(rest) = arn.resource().strip_prefix("function:") else {
            return Err(format!(
                "{s:?} is not a Lambda function ARN: the resource must be function:NAME"
            ));
        };
        let (name, qualifier) = rest
            .split_once(':')
            .map_or((rest, None), |(n, q)| (n, Some(q)));
        check_function_name(name)
            .map_err(|p| format!("{s:?} is not a Lambda function ARN: {p}"))?;
        if let Some(q) = qualifier {
            let ok = !q.is_empty()
                && q.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$'));
            if !ok {
                return Err(format!(
                    "{s:?} is not a Lambda function ARN: {q:?} is not a version or alias"
                ));
            }
        }
        Ok(Self(arn))
    }
}

impl FromStr for FunctionArn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse::<Arn>().and_then(Self::try_from)
    }
}

impl fmt::Display for FunctionArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An IAM role's ARN: `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleArn(Arn);

impl RoleArn {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The account the role belongs to (where a target's functions live).
    pub fn account(&self) -> &str {
        self.0.account()
    }

    /// The role's name, without its path.
    pub fn name(&self) -> &str {
        let r = self.0.resource();
        r.rsplit_once('/').map_or(r, |(_, n)| n)
    }
}

impl TryFrom<Arn> for RoleArn {
    type Error = String;
    fn try_from(arn: Arn) -> Result<Self, String> {
        let s = arn.as_str();
        if arn.service() != "iam" {
            return Err(format!(
                "{s:?} is not an IAM role ARN: the service is {:?}, not \"iam\"",
                arn.service()
            ));
        }
        if !arn.region().is_empty() {
            return Err(format!(
                "{s:?} is not an IAM role ARN: IAM is global, so the region must be empty"
            ));
        }
        let named = arn
            .resource()
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty() && !n.ends_with('/'));
        if !named {
            return Err(format!(
                "{s:?} is not an IAM role ARN: the resource must be role/NAME"
            ));
        }
        // IAM's own limits: what AssumeRole and Scheduler would refuse anyway.
        if s.len() > 2048 || !s.chars().all(|c| c.is_ascii_graphic()) {
            return Err(format!(
                "{s:?} is not an IAM role ARN: at most 2048 printable ASCII characters"
            ));
        }
        Ok(Self(arn))
    }
}

impl FromStr for RoleArn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse::<Arn>().and_then(Self::try_from)
    }
}

/// As the string AssumeRole takes (`as_deref()` on a target's role gives it).
impl std::ops::Deref for RoleArn {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
