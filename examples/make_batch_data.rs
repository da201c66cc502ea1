//! Write the synthetic long table used by the batch benchmarks and `benches/compare_metafor.sh`:
//!
//!     cargo run --release --example make_batch_data -- ANALYSES K SEED OUT.csv
//!
//! (see `metarepro::batch::synthetic_long_table`).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 4 {
        eprintln!("usage: make_batch_data ANALYSES K SEED OUT.csv");
        std::process::exit(2);
    }
    let n: usize = args[0].parse().unwrap_or(1000);
    let k: usize = args[1].parse().unwrap_or(10);
    let seed: u64 = args[2].parse().unwrap_or(1);
    let text = metarepro::batch::synthetic_long_table(n, k, seed);
    if let Err(e) = std::fs::write(&args[3], text) {
        eprintln!("cannot write {}: {e}", args[3]);
        std::process::exit(5);
    }
}
