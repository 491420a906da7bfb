//! The library's own tokio runtime: network calls run there, whatever executor (Kotlin
//! coroutines, Swift concurrency) awaits them.

use std::sync::OnceLock;

use crate::errors::{AuthError, FfiResult};

/// The library's own runtime for network calls: one per process, two worker threads.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("authenticator-core")
            .enable_all()
            .build()
            .expect("the OS refused to start the network threads")
    })
}

/// Runs `future` on the library's runtime, whatever executor awaits the result.
pub(crate) async fn spawn<T: Send + 'static>(
    future: impl Future<Output = services::Result<T>> + Send + 'static,
) -> FfiResult<T> {
    match runtime().spawn(future).await {
        Ok(result) => result.map_err(AuthError::from),
        Err(e) => Err(AuthError::internal(format!("background task failed: {e}"))),
    }
}
