//! GitHub Packages REST API client (placeholder while being built).
