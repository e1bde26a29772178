//! Compiles the variadic entry point of the OpenMP ABI (csrc/kmpc.c):
//! stable Rust cannot define a C-variadic function.

fn main() {
    println!("cargo:rerun-if-changed=csrc/kmpc.c");
    cc::Build::new()
        .file("csrc/kmpc.c")
        .flag_if_supported("-Wall")
        .compile("parla_kmpc");
}
