//! The library's own tokio runtime: network calls run there, whatever executor (Kotlin
//! coroutines, Swift concurrency) awaits them.

use std::any::Any;
use std::pin::Pin;
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

/// What runs on the runtime: one type for every call. Each future type spawned would otherwise
/// get its own copy of tokio's task machinery (about 2 KB per exported async method in the
/// phones' library).
type Task = Pin<Box<dyn Future<Output = Box<dyn Any + Send>> + Send>>;

/// Runs `future` on the library's runtime, whatever executor awaits the result.
pub(crate) async fn spawn<T: Send + 'static>(
    future: impl Future<Output = services::Result<T>> + Send + 'static,
) -> FfiResult<T> {
    let task: Task = Box::pin(async move { Box::new(future.await) as Box<dyn Any + Send> });
    match runtime().spawn(task).await {
        Ok(output) => match output.downcast::<services::Result<T>>() {
            Ok(result) => result.map_err(AuthError::from),
            Err(_) => Err(AuthError::internal("a background task returned the wrong type".into())),
        },
        Err(e) => Err(AuthError::internal(format!("background task failed: {e}"))),
    }
}
