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

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "arn:aws:lambda:eu-west-1:123456789012:function:api";

    #[test]
    fn good_arns_show_their_parts() {
        let a: Arn = "arn:aws-cn:sns:cn-north-1:123456789012:topic:with:colons"
            .parse()
            .unwrap();
        assert_eq!(
            (a.partition(), a.service(), a.region(), a.account()),
            ("aws-cn", "sns", "cn-north-1", "123456789012")
        );
        assert_eq!(a.resource(), "topic:with:colons");
        assert_eq!(
            a.to_string(),
            "arn:aws-cn:sns:cn-north-1:123456789012:topic:with:colons"
        );
        let iam: Arn = "arn:aws:iam::123456789012:role/x".parse().unwrap();
        assert_eq!(iam.region(), "");
        let json: Arn = serde_json::from_str(&format!("{F:?}")).unwrap();
        assert_eq!(serde_json::to_string(&json).unwrap(), format!("{F:?}"));
    }

    #[test]
    fn every_bad_part_is_named() {
        let bad = |s: &str| s.parse::<Arn>().unwrap_err();
        assert_eq!(
            bad("api"),
            "\"api\" is not an ARN: it must start with \"arn:\""
        );
        assert_eq!(
            bad("arn:aws:lambda:eu-west-1"),
            "\"arn:aws:lambda:eu-west-1\" is not an ARN: it must be arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE"
        );
        assert_eq!(
            bad("arn::lambda:eu-west-1:123456789012:function:f"),
            "\"arn::lambda:eu-west-1:123456789012:function:f\" is not an ARN: the partition \"\" is not one (aws, aws-cn, aws-us-gov, …)"
        );
        assert_eq!(
            bad("arn:aws:Lambda:eu-west-1:123456789012:function:f"),
            "\"arn:aws:Lambda:eu-west-1:123456789012:function:f\" is not an ARN: the service \"Lambda\" is not a service name"
        );
        assert_eq!(
            bad("arn:aws:lambda:EU WEST:123456789012:function:f"),
            "\"arn:aws:lambda:EU WEST:123456789012:function:f\" is not an ARN: the region \"EU WEST\" is not an AWS region name"
        );
        assert_eq!(
            bad("arn:aws:lambda:eu-west-1:123:function:f"),
            "\"arn:aws:lambda:eu-west-1:123:function:f\" is not an ARN: the account \"123\" is not a 12-digit AWS account id"
        );
        assert_eq!(
            bad("arn:aws:lambda:eu-west-1:123456789012:"),
            "\"arn:aws:lambda:eu-west-1:123456789012:\" is not an ARN: it names no resource"
        );
        let e = serde_json::from_str::<Arn>("\"arn:aws\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not an ARN"), "{e}");
    }

    #[test]
    fn function_arns_know_name_and_qualifier() {
        let f: FunctionArn = F.parse().unwrap();
        assert_eq!(
            (f.name(), f.qualifier(), f.is_qualified()),
            ("api", None, false)
        );
        assert_eq!((f.region(), f.account()), ("eu-west-1", "123456789012"));
        assert_eq!(f.unqualified(), f);
        let q: FunctionArn = format!("{F}:live").parse().unwrap();
        assert_eq!((q.name(), q.qualifier()), ("api", Some("live")));
        assert_eq!(q.unqualified().as_str(), F);
        assert_eq!(q.unqualified().qualifier(), None);
        let latest: FunctionArn = format!("{F}:$LATEST").parse().unwrap();
        assert_eq!(latest.qualifier(), Some("$LATEST"));
    }

    #[test]
    fn function_arns_refuse_other_resources() {
        let bad = |s: &str| s.parse::<FunctionArn>().unwrap_err();
        assert!(bad("arn:aws:sqs:eu-west-1:123456789012:q").contains("the service is \"sqs\""));
        assert!(bad("arn:aws:lambda::123456789012:function:f").contains("names no region"));
        assert!(
            bad("arn:aws:lambda:eu-west-1:123456789012:layer:l").contains("must be function:NAME")
        );
        assert!(
            bad("arn:aws:lambda:eu-west-1:123456789012:function:a b").contains("a function name")
        );
        assert!(bad(&format!("{F}:")).contains("\"\" is not a version or alias"));
        assert!(bad(&format!("{F}:a:b")).contains("\"a:b\" is not a version or alias"));
    }

    #[test]
    fn role_arns_know_account_and_name() {
        let r: RoleArn = "arn:aws:iam::210987654321:role/path/deployer"
            .parse()
            .unwrap();
        assert_eq!((r.account(), r.name()), ("210987654321", "deployer"));
        let bad = |s: &str| s.parse::<RoleArn>().unwrap_err();
        assert!(bad("arn:aws:iam::123456789012:user/x").contains("must be role/NAME"));
        assert!(bad("arn:aws:iam::123456789012:role/").contains("must be role/NAME"));
        assert!(bad("arn:aws:iam::123456789012:role/p/").contains("must be role/NAME"));
        assert!(bad("arn:aws:iam:eu-west-1:123456789012:role/x").contains("region must be empty"));
        assert!(bad("arn:aws:sts::123456789012:role/x").contains("not \"iam\""));
        assert!(bad("arn:aws:iam::123:role/x").contains("12-digit"));
        assert!(
            bad(&format!(
                "arn:aws:iam::123456789012:role/{}",
                "x".repeat(2048)
            ))
            .contains("2048")
        );
    }
}
