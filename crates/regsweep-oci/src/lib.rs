//! OCI Distribution registry client (placeholder while being built).
