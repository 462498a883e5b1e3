//! Numerics of the data-preparation stages (no I/O): the Tsys table built from SYSCAL and
//! its science-spw map (`tsysspwmap`). Antenna-position phases and shadowing geometry live
//! beside them as they are added.

pub mod antpos;
pub mod eop;
pub mod geometry;
pub mod tsys;
pub mod tsysspwmap;
