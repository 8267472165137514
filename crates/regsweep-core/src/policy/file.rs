//! The YAML policy file: parsing with precise errors (line and column), validation.
//! (Being written.)
