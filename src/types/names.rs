//! Names: functions, aliases, accounts, regions, and the free text people attach to a request.

use super::checked_string;
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

checked_string!(
    /// The function as configured: a name (`api-dev`) or an unqualified ARN. The API accepts both;
    /// the short name is what people and allow-lists compare.
    FunctionRef,
    check_function_ref
);

impl FunctionRef {
    /// The bare function name, also for ARNs.
    pub fn name(&self) -> &str {
        // Checked when made: an ARN here is an unqualified function ARN, whose last part is the name.
        self.0.rsplit(':').next().unwrap_or(&self.0)
    }

    pub fn is_arn(&self) -> bool {
        self.0.starts_with("arn:")
    }
}

fn check_function_ref(s: &str) -> Result<(), String> {
    if !s.starts_with("arn:") {
        return check_function_name(s);
    }
    // Configuration and payload errors keep the words they have always used (people grep for
    // them); the ARN's own, finer error is for the other callers.
    let arn = match s.parse::<super::FunctionArn>() {
        Ok(arn) => arn,
        Err(_) => {
            // A Lambda function ARN whose only fault is its name says what is wrong with the name.
            let arn = s.parse::<super::Arn>().ok();
            let name = arn
                .as_ref()
                .filter(|a| a.service() == "lambda" && !a.region().is_empty())
                .and_then(|a| a.resource().strip_prefix("function:"))
                .filter(|n| !n.contains(':'));
            if let Some(name) = name {
                check_function_name(name)?;
            }
            return Err(format!(
                "{s:?} is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
            ));
        }
    };
    if arn.is_qualified() {
        return Err(format!(
            "{s:?} is a qualified ARN: name the function, the deployer chooses the version"
        ));
    }
    Ok(())
}

pub(super) fn check_function_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err(format!(
            "{name:?} is not a function name: it must be 1 to 64 characters"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "{name:?} is not a function name: only letters, digits, '-' and '_' are allowed"
        ));
    }
    Ok(())
}

checked_string!(
    /// An alias name as Lambda accepts it, excluding names that look like versions.
    AliasName,
    check_alias
);

fn check_alias(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 128 {
        return Err(format!(
            "{s:?} is not an alias name: it must be 1 to 128 characters"
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "{s:?} is not an alias name: only letters, digits, '-' and '_' are allowed"
        ));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{s:?} is not an alias name: Lambda rejects all-digit alias names"
        ));
    }
    Ok(())
}

checked_string!(
    /// A 12-digit AWS account id.
    Account,
    check_account
);

pub(crate) fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn check_account(s: &str) -> Result<(), String> {
    if is_account(s) {
        Ok(())
    } else {
        Err(format!("{s:?} is not a 12-digit AWS account id"))
    }
}

checked_string!(
    /// An AWS region name (`eu-west-1`).
    Region,
    check_region
);

fn check_region(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!("{s:?} is not an AWS region name"))
    }
}

/// Free text a person attaches to a rollback or deploy; it goes into the report and notification.
/// Control and bidi characters are dropped on the way in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Reason(String);

impl Reason {
    pub const MAX_CHARS: usize = 500;

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Nothing but whitespace: treated as no reason at all.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl TryFrom<String> for Reason {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let n = s.chars().count();
        if n > Self::MAX_CHARS {
            return Err(format!(
                "is {n} characters long: at most {}",
                Self::MAX_CHARS
            ));
        }
        Ok(Self(crate::text::one_line(&s)))
    }
}

impl std::ops::Deref for Reason {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Reason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::try_from(s.to_owned())
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_refs_accept_names_and_unqualified_arns() {
        assert_eq!(FunctionRef::parse("api-dev").unwrap().name(), "api-dev");
        let arn = FunctionRef::parse("arn:aws:lambda:eu-west-1:123456789012:function:api").unwrap();
        assert_eq!(arn.name(), "api");
        assert!(arn.is_arn());
        assert!(
            FunctionRef::parse("arn:aws:lambda:eu-west-1:123456789012:function:api:live")
                .unwrap_err()
                .contains("qualified")
        );
        assert!(
            FunctionRef::parse("arn:aws:s3:::bucket")
                .unwrap_err()
                .contains("not a Lambda")
        );
        assert_eq!(
            FunctionRef::parse("arn:aws:lambda:eu-west-1:123456789012:function:a b").unwrap_err(),
            "\"a b\" is not a function name: only letters, digits, '-' and '_' are allowed"
        );
        assert!(
            FunctionRef::parse("arn:aws:lambda:eu-west-1:123:function:api")
                .unwrap_err()
                .contains("not a Lambda function ARN")
        );
        assert_eq!(
            arn.as_str()
                .parse::<super::super::FunctionArn>()
                .ok()
                .map(|a| a.region().to_owned())
                .as_deref(),
            Some("eu-west-1")
        );
        assert!(FunctionRef::parse("").is_err());
        assert!(FunctionRef::parse("has space").is_err());
        assert!(FunctionRef::parse(&"x".repeat(65)).is_err());
        let f: FunctionRef = serde_json::from_str("\"api\"").unwrap();
        assert_eq!(f, "api");
        let e = serde_json::from_str::<FunctionRef>("\"a b\"")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("\"a b\" is not a function name"), "{e}");
    }

    #[test]
    fn alias_names_reject_versions_and_latest() {
        assert!(AliasName::parse("live").is_ok());
        assert!(AliasName::parse("42").unwrap_err().contains("all-digit"));
        assert!(AliasName::parse("$LATEST").is_err());
        assert!(AliasName::parse("").is_err());
    }

    #[test]
    fn accounts_regions_and_reasons_check_themselves() {
        assert!("123456789012".parse::<Account>().is_ok());
        assert_eq!(
            "12345".parse::<Account>().unwrap_err(),
            "\"12345\" is not a 12-digit AWS account id"
        );
        assert!("eu-west-1".parse::<Region>().is_ok());
        assert_eq!(
            "EU WEST".parse::<Region>().unwrap_err(),
            "\"EU WEST\" is not an AWS region name"
        );
        let r: Reason = "bad\u{7}re\u{202E}lease".parse().unwrap();
        assert_eq!(r.as_str(), "badrelease");
        assert!("  ".parse::<Reason>().unwrap().is_blank());
        assert_eq!(
            "x".repeat(501).parse::<Reason>().unwrap_err(),
            "is 501 characters long: at most 500"
        );
    }
}
