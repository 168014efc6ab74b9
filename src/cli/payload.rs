//! `handle`: the payload from a file or stdin, parsed as the Lambda parses it.

use crate::input::Request;
use serde_json::Value;
use std::io::Read;

pub(super) fn read(file: Option<&str>) -> Result<Request, String> {
    let text = match file {
        None | Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read the payload from stdin: {e}"))?;
            s
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the payload from {path}: {e}"))?,
    };
    let payload: Value =
        serde_json::from_str(&text).map_err(|e| format!("invalid payload: not JSON: {e}"))?;
    crate::input::parse_request(&payload, chrono::Utc::now())
        .map_err(|e| format!("invalid payload: {e}"))
}
