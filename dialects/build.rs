//! Compiles the few native ops that IRDL in MLIR 22 cannot express (see
//! `cpp/native_ops.cpp`) against the same LLVM 22 headers mlir-sys uses.

fn main() {
    let prefix = std::env::var("MLIR_SYS_220_PREFIX").unwrap_or_else(|_| "/usr/lib/llvm-22".into());
    println!("cargo:rerun-if-changed=cpp/native_ops.cpp");
    println!("cargo:rerun-if-env-changed=MLIR_SYS_220_PREFIX");
    cc::Build::new()
        .cpp(true)
        .file("cpp/native_ops.cpp")
        .include(format!("{prefix}/include"))
        // Match how Debian builds LLVM: C++17, no RTTI, no exceptions.
        .flag("-std=c++17")
        .flag("-fno-rtti")
        .flag("-fno-exceptions")
        .flag_if_supported("-Wno-unused-parameter")
        .compile("parla_native_ops");
}
