fn main() {
    let cli = creds::cli::Cli::parse_args(std::env::args_os().collect());
    let ctx = creds::context::Context::from_process();
    std::process::exit(creds::run(cli, &ctx));
}
