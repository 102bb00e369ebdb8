use clap::Parser;

fn main() {
    let cli = creds::cli::Cli::parse();
    let ctx = creds::context::Context::from_process();
    std::process::exit(creds::run(cli, &ctx));
}
