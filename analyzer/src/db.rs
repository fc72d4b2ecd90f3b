//! The salsa database: inputs (files, settings, lock files, option schemas) and tracked queries.
