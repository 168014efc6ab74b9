//! A fake GitHub API on 127.0.0.1: real HTTP/1.1, every request recorded, answers shaped like
//! GitHub's (deployments, statuses, an App's installation token), and a mode for each way GitHub
//! fails (401, 403 rate limit, 500, no answer at all).

use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Unauthorized,
    RateLimited,
    ServerError,
    /// Accepts the connection and never answers.
    Hang,
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub authorization: String,
    pub body: Value,
}

#[derive(Debug, Default)]
struct State {
    mode: Option<Mode>,
    seen: Vec<Seen>,
    deployments: Vec<Value>,
    /// What `GET /blobs/config` answers: an image config (an ECR layer's download address).
    blob: Option<Value>,
    /// How many times the blob was fetched (not in `seen`: the blob is ECR's storage, not GitHub).
    blob_gets: usize,
    /// The next this many `POST /deployments` answer 500 (GitHub failing briefly).
    failing_creates: usize,
}

/// A look at the world, taken as each status arrives and kept with it.
type Observe = Arc<dyn Fn() -> Value + Send + Sync>;

#[derive(Clone)]
pub struct FakeGitHub {
    pub url: String,
    state: Arc<Mutex<State>>,
    observe: Arc<Mutex<Option<Observe>>>,
}

impl FakeGitHub {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(Mutex::new(State::default()));
        let observe: Arc<Mutex<Option<Observe>>> = Arc::default();
        let (s, o) = (state.clone(), observe.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, s.clone(), o.clone()));
            }
        });
        Self {
            url,
            state,
            observe,
        }
    }

    /// `look` is taken as each status arrives, and kept as the status's third element: what the
    /// world was when GitHub heard it.
    pub fn observe(&self, look: impl Fn() -> Value + Send + Sync + 'static) {
        *self.observe.lock().unwrap() = Some(Arc::new(look));
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    pub fn set_blob(&self, config: Value) {
        self.state.lock().unwrap().blob = Some(config);
    }

    /// How many times an image config blob was fetched.
    pub fn blob_gets(&self) -> usize {
        self.state.lock().unwrap().blob_gets
    }

    /// The next `n` deployment creates answer 500, then GitHub works again.
    pub fn fail_creates(&self, n: usize) {
        self.state.lock().unwrap().failing_creates = n;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Every deployment created, oldest first, with its statuses as `[state, description,
    /// observed]` (`null` when nothing observes).
    pub fn deployments(&self) -> Vec<Value> {
        self.state.lock().unwrap().deployments.clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    state: Arc<Mutex<State>>,
    observe: Arc<Mutex<Option<Observe>>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let path = first.next().unwrap_or_default().to_owned();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            })
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let len: usize = header("content-length").parse().unwrap_or(0);
    while buf.len() < head_end + len {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body: Value = serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or(Value::Null);
    // Taken before the state is locked: the look reads the world, never this fake.
    let look = observe.lock().unwrap().clone();
    let observed = match look {
        Some(look) if method == "POST" && path.ends_with("/statuses") => look(),
        _ => Value::Null,
    };
    if method == "GET" && path == "/blobs/config" {
        // ECR's layer storage, served here for convenience: GitHub's modes do not apply.
        let answer = {
            let mut st = state.lock().unwrap();
            st.blob_gets += 1;
            match &st.blob {
                Some(b) => (200, "", b.clone()),
                None => (404, "", json!({"message": "BlobUnknown"})),
            }
        };
        return reply(stream, answer).await;
    }
    let (status, extra, answer) = {
        let mut st = state.lock().unwrap();
        let failing = method == "POST" && path.ends_with("/deployments") && st.failing_creates > 0;
        if failing {
            st.failing_creates -= 1;
        }
        st.seen.push(Seen {
            method: method.clone(),
            path: path.clone(),
            authorization: header("authorization"),
            body: body.clone(),
        });
        match st.mode.unwrap_or(Mode::Normal) {
            _ if failing => (500, "", json!({"message": "Server Error"})),
            Mode::Hang => (0, "", Value::Null),
            Mode::Unauthorized => (401, "", json!({"message": "Bad credentials"})),
            Mode::RateLimited => (
                403,
                "x-ratelimit-remaining: 0\r\nx-ratelimit-reset: 1800000000\r\n",
                json!({"message": "API rate limit exceeded"}),
            ),
            Mode::ServerError => (500, "", json!({"message": "Server Error"})),
            Mode::Normal => normal(&mut st, &method, &path, &body, observed),
        }
    };
    if status == 0 {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        return;
    }
    reply(stream, (status, extra, answer)).await;
}

async fn reply(mut stream: TcpStream, (status, extra, answer): (u16, &str, Value)) {
    let text = answer.to_string();
    let reply = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn normal(
    st: &mut State,
    method: &str,
    path: &str,
    body: &Value,
    observed: Value,
) -> (u16, &'static str, Value) {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("POST", ["app", "installations", _, "access_tokens"]) => (
            201,
            "",
            json!({"token": "ghs_installation_token", "expires_at": "2099-01-01T00:00:00Z"}),
        ),
        ("POST", ["repos", _, _, "deployments"]) => {
            let id = st.deployments.len() as u64 + 1;
            let d = json!({
                "id": id, "sha": body["ref"], "ref": body["ref"], "environment": body["environment"],
                "payload": body["payload"], "description": body["description"], "statuses": []
            });
            st.deployments.push(d.clone());
            (201, "", d)
        }
        ("GET", ["repos", _, _, "deployments"]) => {
            let env = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("environment="))
                .unwrap_or_default();
            let list: Vec<Value> = st
                .deployments
                .iter()
                .rev()
                .filter(|d| d["environment"] == env)
                .cloned()
                .collect();
            (200, "", Value::Array(list))
        }
        // A deployment's statuses, newest first, as GitHub lists them.
        ("GET", ["repos", _, _, "deployments", id, "statuses"]) => {
            let Some(d) = st
                .deployments
                .iter()
                .find(|d| d["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(*id))
            else {
                return (404, "", json!({"message": "Not Found"}));
            };
            let list: Vec<Value> = d["statuses"]
                .as_array()
                .expect("statuses")
                .iter()
                .rev()
                .map(|s| json!({"state": s[0], "description": s[1]}))
                .collect();
            (200, "", Value::Array(list))
        }
        ("POST", ["repos", _, _, "deployments", id, "statuses"]) => {
            let Some(d) = st
                .deployments
                .iter_mut()
                .find(|d| d["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(*id))
            else {
                return (404, "", json!({"message": "Not Found"}));
            };
            d["statuses"].as_array_mut().expect("statuses").push(json!([
                body["state"],
                body["description"],
                observed
            ]));
            (201, "", json!({"id": 1, "state": body["state"]}))
        }
        _ => (404, "", json!({"message": "Not Found"})),
    }
}
