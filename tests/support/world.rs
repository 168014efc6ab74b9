//! Only for `examples/poll_strategies.rs`, which includes the world by this path
//! (`#[path = "../tests/support/world.rs"] mod world;`). The tests load `world/mod.rs` directly
//! (see `mod.rs`); nothing here is part of the test kit.

// The example uses a small part of the world (World, Code, the Lambda client) and includes it as a
// private module, so every other item (and re-export) would be reported unused there. Once the
// example declares `#[path = "../tests/support/world/mod.rs"] pub mod world;` this file and its
// allow can go.
#[allow(dead_code, unused_imports)]
#[path = "world/mod.rs"]
mod kit;

pub use kit::{Code, World};
