//! EventBridge: deployment events onto the configured bus, and nothing else.

use super::describe;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

/// EventBridge takes at most 10 entries in one PutEvents call.
const MAX_ENTRIES: usize = 10;

#[derive(Clone, Debug)]
pub struct EventBus {
    client: Client,
    bus: String,
}

/// One event to put on the bus.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub source: &'static str,
    pub detail_type: &'static str,
    /// The event's `detail`, as JSON text.
    pub detail: String,
}

impl EventBus {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.bus
    }

    /// Puts `entries` on the bus, ten to a call. One result per entry, in order: the event id, or
    /// one line saying why EventBridge did not take it (the whole call failed, or just that entry).
    pub async fn put(&self, entries: &[Entry]) -> Vec<Result<String, String>> {
        let mut results = Vec::with_capacity(entries.len());
        for chunk in entries.chunks(MAX_ENTRIES) {
            let request: Vec<PutEventsRequestEntry> = chunk
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(e.source)
                        .detail_type(e.detail_type)
                        .detail(&e.detail)
                        .build()
                })
                .collect();
            match self
                .client
                .put_events()
                .set_entries(Some(request))
                .send()
                .await
            {
                Err(e) => {
                    let why = format!("PutEvents failed: {}", describe(&e));
                    results.extend(chunk.iter().map(|_| Err(why.clone())));
                }
                Ok(out) if out.entries().len() != chunk.len() => {
                    let why = format!(
                        "PutEvents answered {} results for {} entries",
                        out.entries().len(),
                        chunk.len()
                    );
                    results.extend(chunk.iter().map(|_| Err(why.clone())));
                }
                Ok(out) => results.extend(out.entries().iter().map(|r| {
                    match (r.event_id(), r.error_code()) {
                        (Some(id), None) => Ok(id.to_owned()),
                        (_, code) => Err(format!(
                            "PutEvents did not take the event: {}: {}",
                            code.unwrap_or("no event id"),
                            r.error_message().unwrap_or("EventBridge gave no reason")
                        )),
                    }
                })),
            }
        }
        results
    }
}
