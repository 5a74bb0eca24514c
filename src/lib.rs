//! yamlett — track machine-learning experiments as nested documents.
mod error;
mod find_options;
pub mod query;
mod store;

pub use bson;
pub use error::Error;
pub use find_options::FindOptions;
pub use mongodb;
