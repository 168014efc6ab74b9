use clap::Parser;
use self_deployer::{cli, runtime};
use std::process::ExitCode;

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // Honours AWS_LAMBDA_LOG_FORMAT (JSON) and AWS_LAMBDA_LOG_LEVEL as set by Lambda.
        lambda_runtime::tracing::init_default_subscriber();
        return rt.block_on(async {
            match runtime::run(runtime::engine_from_env().await).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = %e, "runtime stopped");
                    ExitCode::FAILURE
                }
            }
        });
    }
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    rt.block_on(cli::main(args))
}
