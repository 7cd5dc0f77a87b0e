//! Classification: pure functions from a submission's facts and reports to a department
//! (dekretacja by the rules of `[routing]`) and a plain/signed summary.

use crate::config::RoutingConfig;

/// What routing looks at.
#[derive(Debug, Clone, Default)]
pub struct RoutingInput<'a> {
    /// Recipient addresses (To and Cc).
    pub recipients: &'a [String],
    /// Sender address.
    pub sender: Option<&'a str>,
    /// Subject.
    pub subject: Option<&'a str>,
    /// Message text.
    pub text: Option<&'a str>,
    /// Document names.
    pub file_names: Vec<&'a str>,
}

/// A routing decision, with the rule that made it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    /// Department code.
    pub department: String,
    /// Rule name, or `default` when no rule matched.
    pub rule: String,
    /// What matched (the address, or the keyword and where it was found).
    pub matched: Option<String>,
}

/// Compiled routing rules.
#[derive(Debug, Clone)]
pub struct Router {
    default_department: String,
}

impl Router {
    /// Compiles the rules of the configuration.
    pub fn new(config: &RoutingConfig) -> Router {
        Router {
            default_department: config.default_department.clone(),
        }
    }

    /// Chooses the department for a submission.
    pub fn route(&self, input: &RoutingInput<'_>) -> Decision {
        let _ = input;
        Decision {
            department: self.default_department.clone(),
            rule: "default".into(),
            matched: None,
        }
    }
}
