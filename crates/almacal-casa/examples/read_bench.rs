//! Reads a whole data column through the chunked reader and reports throughput.
//! `cargo run --release -p almacal-casa --example read_bench -- MS [COLUMN]`

use almacal_casa::reader::{spawn_reader, ReadRequest};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    almacal_casa::memory::keep_freed_memory();
    let mut args = std::env::args().skip(1);
    let ms = args.next().ok_or("usage: read_bench MS [COLUMN]")?;
    let mut req = ReadRequest::new(&ms);
    if let Some(col) = args.next() {
        req.column = col;
    }
    if let Some(n) = std::env::var("CHUNK_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        req.chunk_rows = n;
    }
    let t0 = Instant::now();
    let stream = spawn_reader(req, 2)?;
    let (mut rows, mut bytes, mut chunks) = (0usize, 0usize, 0usize);
    for chunk in stream {
        let c = chunk?;
        rows += c.nrows();
        bytes += c.data_rcf.len() * 8;
        chunks += 1;
    }
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "{ms}: {rows} rows in {chunks} chunks, {:.1} MB of visibilities in {dt:.3} s = {:.0} MB/s",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / dt
    );
    Ok(())
}
