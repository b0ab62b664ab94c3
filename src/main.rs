fn main() -> std::process::ExitCode {
    pgparity::cli::main()
}
