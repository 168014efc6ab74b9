//! The verdict, pure: counts against `max_findings`, a usable scan when `require_scan`, a
//! `COMPLETE` signature by the required profile.

use super::*;

/// The verdict on what ECR said. Pure.
pub fn judge(
    checks: &ImageChecks,
    image: &ImageRef,
    scan: &Result<Option<ImageScan>, ApiError>,
    signing: Option<(&SigningProfileArn, &Result<Vec<ImageSigning>, ApiError>)>,
    budget: Budget,
) -> Verdict {
    let mut acc = Acc {
        budget,
        blocked_by: Vec::new(),
        warnings: Vec::new(),
    };
    let (scan_status, scan_detail, counts, findings) = judge_scan(&mut acc, checks, image, scan);
    let signature = signing.map(|(profile, statuses)| judge_signature(&mut acc, profile, statuses));
    let Acc {
        blocked_by,
        warnings,
        ..
    } = acc;
    let verdict = if blocked_by.is_empty() {
        ImageVerdict::Passed
    } else {
        ImageVerdict::Blocked
    };
    Verdict {
        result: ImageChecksResult {
            verdict,
            scan_status,
            scan_detail,
            counts,
            findings,
            signature,
        },
        blocked_by,
        warnings,
    }
}

/// What the checks found so far: what blocks the image, and what only warns.
struct Acc {
    budget: Budget,
    blocked_by: Vec<String>,
    warnings: Vec<String>,
}

impl Acc {
    /// Why a scan or signature still in progress was given up on.
    fn within(&self, what: &str, status: &str) -> String {
        if self.budget.by_deadline {
            format!(
                "{what} still {status} after {} s, and this invocation's deadline is near",
                self.budget.limit.as_secs()
            )
        } else {
            format!(
                "{what} did not complete within {} s (still {status})",
                self.budget.limit.as_secs()
            )
        }
    }

    fn unchecked(why: String) -> String {
        format!("image not checked for vulnerabilities: {why}")
    }
}

/// The scan's findings against the limits: status, detail, counts and the findings shown.
fn judge_scan(
    acc: &mut Acc,
    checks: &ImageChecks,
    image: &ImageRef,
    scan: &Result<Option<ImageScan>, ApiError>,
) -> (
    String,
    Option<String>,
    SeverityCounts,
    Vec<crate::report::Finding>,
) {
    match scan {
        Err(e) => {
            let why = format!("could not read the scan findings: {e}");
            if checks.scan_enforced() {
                acc.blocked_by.push(why);
            } else {
                acc.warnings.push(Acc::unchecked(why));
            }
            (
                "UNREADABLE".to_owned(),
                Some(e.to_string()),
                SeverityCounts::default(),
                Vec::new(),
            )
        }
        Ok(None) => {
            let why = format!(
                "ECR has no scan of this image (is scan on push on for repository {}?)",
                image.repository
            );
            if checks.require_scan {
                acc.blocked_by
                    .push(format!("no scan: {why}, and require_scan is set"));
            } else {
                acc.warnings.push(Acc::unchecked(why));
            }
            (
                "NONE".to_owned(),
                None,
                SeverityCounts::default(),
                Vec::new(),
            )
        }
        Ok(Some(s)) => {
            let said = match &s.description {
                Some(d) => format!("{} ({d})", s.status),
                None => s.status.clone(),
            };
            match s.progress() {
                ScanProgress::Running => {
                    let why = acc.within("scan", &s.status);
                    if checks.scan_enforced() {
                        acc.blocked_by.push(why);
                    } else {
                        acc.warnings.push(Acc::unchecked(why));
                    }
                }
                ScanProgress::Unusable if checks.require_scan => acc.blocked_by.push(format!(
                    "no usable scan: ECR reports {said}, and require_scan is set"
                )),
                ScanProgress::Unusable => acc
                    .warnings
                    .push(Acc::unchecked(format!("ECR reports the scan {said}"))),
                ScanProgress::Done => {
                    let over: Vec<String> = checks
                        .max_findings
                        .iter()
                        .flatten()
                        .filter_map(|(sev, max)| {
                            let n = s.counts.get(sev.as_str());
                            (n > *max).then(|| format!("{sev} {n} > {max}"))
                        })
                        .collect();
                    if !over.is_empty() {
                        acc.blocked_by.push(over.join(", "));
                    }
                }
            }
            (
                s.status.clone(),
                s.description.clone(),
                s.counts.clone(),
                s.findings
                    .iter()
                    .take(MAX_FINDINGS_SHOWN)
                    .cloned()
                    .collect(),
            )
        }
    }
}

/// The signing status for `profile`: COMPLETE passes; anything else blocks.
fn judge_signature(
    acc: &mut Acc,
    profile: &SigningProfileArn,
    statuses: &Result<Vec<ImageSigning>, ApiError>,
) -> SignatureCheck {
    let (status, failure_reason) = match statuses {
        Err(e) => {
            acc.blocked_by
                .push(format!("could not read the signing status: {e}"));
            ("UNREADABLE".to_owned(), Some(e.to_string()))
        }
        Ok(list) => match signing_for(list, profile) {
            None => {
                let others: Vec<&str> = list
                    .iter()
                    .filter_map(|s| s.signing_profile_arn.as_deref())
                    .collect();
                let why = if others.is_empty() {
                    "ECR has no signing status for this image".to_owned()
                } else {
                    format!("it is signed only by {}", others.join(", "))
                };
                acc.blocked_by
                    .push(format!("not signed by {profile}: {why}"));
                ("NONE".to_owned(), None)
            }
            Some(s) if s.status == "COMPLETE" => (s.status.clone(), None),
            Some(s) if s.status == "IN_PROGRESS" => {
                acc.blocked_by
                    .push(acc.within(&format!("signing by {profile}"), &s.status));
                (s.status.clone(), None)
            }
            Some(s) => {
                let reason = [s.failure_code.as_deref(), s.failure_reason.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ");
                let reason = (!reason.is_empty()).then_some(reason);
                acc.blocked_by.push(format!(
                    "not signed by {profile}: ECR reports {}{}",
                    s.status,
                    reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ));
                (s.status.clone(), reason)
            }
        },
    };
    SignatureCheck {
        signing_profile_arn: profile.to_string(),
        status,
        failure_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::super::Budget;
    use super::*;
    use crate::config::RequireSignature;
    use crate::gateway::ErrorKind;
    use crate::report::Finding;
    use std::collections::BTreeMap;

    fn image() -> ImageRef {
        format!(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:{}",
            "b".repeat(64)
        )
        .parse()
        .unwrap()
    }

    fn checks(json: serde_json::Value) -> ImageChecks {
        serde_json::from_value(json).unwrap()
    }

    fn scan(status: &str, counts: &[(&str, u32)]) -> Result<Option<ImageScan>, ApiError> {
        Ok(Some(ImageScan {
            status: status.into(),
            description: None,
            counts: SeverityCounts::new(counts.iter().map(|(s, n)| (s.to_string(), *n))),
            findings: vec![Finding {
                name: "CVE-1".into(),
                severity: "HIGH".into(),
                package: None,
            }],
        }))
    }

    const WAIT: Budget = Budget {
        limit: Duration::from_secs(300),
        by_deadline: false,
    };
    const PROFILE: &str = "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/prod";

    #[test]
    fn counts_above_their_limit_block_and_say_which() {
        let c = checks(serde_json::json!({"max_findings": {"CRITICAL": 0, "HIGH": 3}}));
        let v = judge(
            &c,
            &image(),
            &scan("COMPLETE", &[("CRITICAL", 2), ("HIGH", 5), ("LOW", 40)]),
            None,
            WAIT,
        );
        assert_eq!(v.blocked_by, ["CRITICAL 2 > 0, HIGH 5 > 3"]);
        assert_eq!(v.result.verdict, ImageVerdict::Blocked);
        let v = judge(
            &c,
            &image(),
            &scan("ACTIVE", &[("HIGH", 3), ("LOW", 40), ("UNTRIAGED", 9)]),
            None,
            WAIT,
        );
        assert!(v.blocked_by.is_empty() && v.warnings.is_empty(), "{v:?}");
        assert_eq!(v.result.counts.summary(), "HIGH 3, LOW 40, UNTRIAGED 9");
    }

    #[test]
    fn without_a_usable_scan_require_scan_decides_between_block_and_warning() {
        let strict = checks(serde_json::json!({"require_scan": true}));
        let lenient = checks(serde_json::json!({"max_findings": {"CRITICAL": 0}}));
        for s in [
            Ok(None),
            scan("FAILED", &[]),
            scan("UNSUPPORTED_IMAGE", &[]),
            scan("SCAN_ELIGIBILITY_EXPIRED", &[]),
            scan("FINDINGS_UNAVAILABLE", &[]),
        ] {
            let v = judge(&strict, &image(), &s, None, WAIT);
            assert_eq!(v.blocked_by.len(), 1, "{s:?}");
            assert!(
                v.blocked_by[0].ends_with("and require_scan is set"),
                "{v:?}"
            );
            let v = judge(&lenient, &image(), &s, None, WAIT);
            assert!(v.blocked_by.is_empty(), "{v:?}");
            assert!(
                v.warnings[0].starts_with("image not checked for vulnerabilities: "),
                "{v:?}"
            );
        }
    }

    #[test]
    fn a_scan_still_running_blocks_when_it_decides_and_names_the_wait() {
        let c = checks(serde_json::json!({"max_findings": {}}));
        let v = judge(&c, &image(), &scan("IN_PROGRESS", &[]), None, WAIT);
        assert_eq!(
            v.blocked_by,
            ["scan did not complete within 300 s (still IN_PROGRESS)"]
        );
        let near = Budget {
            limit: Duration::from_secs(12),
            by_deadline: true,
        };
        let v = judge(&c, &image(), &scan("PENDING", &[]), None, near);
        assert_eq!(
            v.blocked_by,
            ["scan still PENDING after 12 s, and this invocation's deadline is near"]
        );
        // Report only: a warning.
        let v = judge(
            &checks(serde_json::json!({})),
            &image(),
            &scan("IN_PROGRESS", &[]),
            None,
            WAIT,
        );
        assert!(v.blocked_by.is_empty() && v.warnings.len() == 1, "{v:?}");
    }

    #[test]
    fn an_unreadable_scan_blocks_only_an_enforcing_check() {
        let err: Result<Option<ImageScan>, ApiError> = Err(ApiError {
            op: "DescribeImageScanFindings",
            kind: ErrorKind::Other,
            message: "AccessDeniedException: no".into(),
        });
        let v = judge(
            &checks(serde_json::json!({"require_scan": true})),
            &image(),
            &err,
            None,
            WAIT,
        );
        assert_eq!(
            v.blocked_by,
            [
                "could not read the scan findings: DescribeImageScanFindings failed: AccessDeniedException: no"
            ]
        );
        assert_eq!(v.result.scan_status, "UNREADABLE");
        let v = judge(&checks(serde_json::json!({})), &image(), &err, None, WAIT);
        assert!(v.blocked_by.is_empty() && v.warnings.len() == 1, "{v:?}");
    }

    #[test]
    fn a_signature_must_be_complete_and_by_the_profile() {
        let c = ImageChecks {
            require_signature: Some(RequireSignature {
                signing_profile_arn: PROFILE.parse().unwrap(),
            }),
            ..checks(serde_json::json!({}))
        };
        let p: SigningProfileArn = PROFILE.parse().unwrap();
        let signed = |arn: &str, status: &str| ImageSigning {
            signing_profile_arn: Some(arn.into()),
            status: status.into(),
            failure_code: (status == "FAILED").then(|| "KMS_KEY_DISABLED".into()),
            failure_reason: (status == "FAILED").then(|| "the key is disabled".into()),
        };
        let ok = scan("COMPLETE", &[]);
        let run = |list: Vec<ImageSigning>| judge(&c, &image(), &ok, Some((&p, &Ok(list))), WAIT);
        let v = run(vec![signed(&format!("{PROFILE}/v1"), "COMPLETE")]);
        assert!(v.blocked_by.is_empty(), "{v:?}");
        assert_eq!(v.result.signature.unwrap().status, "COMPLETE");
        let other = "arn:aws:signer:eu-west-1:123456789012:/signing-profiles/dev";
        assert_eq!(
            run(vec![signed(other, "COMPLETE")]).blocked_by,
            [format!(
                "not signed by {PROFILE}: it is signed only by {other}"
            )]
        );
        assert_eq!(
            run(vec![]).blocked_by,
            [format!(
                "not signed by {PROFILE}: ECR has no signing status for this image"
            )]
        );
        assert_eq!(
            run(vec![signed(PROFILE, "FAILED")]).blocked_by,
            [format!(
                "not signed by {PROFILE}: ECR reports FAILED: KMS_KEY_DISABLED: the key is disabled"
            )]
        );
        assert_eq!(
            run(vec![signed(PROFILE, "IN_PROGRESS")]).blocked_by,
            [format!(
                "signing by {PROFILE} did not complete within 300 s (still IN_PROGRESS)"
            )]
        );
    }

    #[test]
    fn limits_parse_from_config_and_unknown_severities_are_refused() {
        let c = checks(serde_json::json!({"max_findings": {"HIGH": 3, "CRITICAL": 0}}));
        let expected: BTreeMap<_, _> = [
            (crate::types::Severity::Critical, 0),
            (crate::types::Severity::High, 3),
        ]
        .into_iter()
        .collect();
        assert_eq!(c.max_findings, Some(expected));
        assert_eq!(c.scan_wait_secs, 300);
        assert!(!c.require_scan);
    }
}
