//! Process-wide allocator settings for streaming visibilities.
//!
//! Every chunk allocates and frees buffers of several MB. glibc hands such buffers back to
//! the kernel (`mmap`/`munmap`, heap trimming), so each new chunk faults its pages in again;
//! on a VM whose free memory returns to the host that costs µs per page (see
//! `docs/performance.md`). Reading the tutorial's 1.26 GB calibrated split: 0.63 s with
//! glibc's defaults, 0.30 s with 16 MB chunks, 0.23 s with 16 MB chunks and these settings.

/// Keep freed chunk buffers in the heap for reuse: allocations up to 32 MB (glibc's largest
/// allowed threshold) come from the heap, and the heap is not trimmed below 1 GB of free
/// space. Call once, early in `main`; a no-op off glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator parameters; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}
