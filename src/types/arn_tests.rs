//! The ARN parser: good ARNs and each bad part, and the function and role views.

use super::arn::*;

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
    assert!(bad("arn:aws:lambda:eu-west-1:123456789012:layer:l").contains("must be function:NAME"));
    assert!(bad("arn:aws:lambda:eu-west-1:123456789012:function:a b").contains("a function name"));
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
