//! Pipeline stages: source → srpm → rpm → collect. Library code, no terminal I/O.
