//! `podawcza trust update` (issue 5; ETSI TS 119 612 §6.1, §5.3.13): fetch the EU list of
//! lists, then the national lists at the addresses its `OtherTSLPointer`s give, check them
//! exactly as `trust import` does ([`super::Trust::add_lists`]: the list of lists against the
//! configured signers, each national list against the signers the list of lists announces),
//! and write the lists that pass into the lists folder. A list that fails is not written, so
//! the previous good copy stays in use.

use super::http::{self, Limits};
use super::Trust;
use openssl::x509::X509;
use std::path::{Path, PathBuf};

/// What to fetch and where to put it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Address of the EU list of lists.
    pub lotl_url: String,
    /// Territories whose national lists are fetched (`PL`).
    pub territories: Vec<String>,
    /// Addresses used instead of the ones the list of lists gives (`PL` → a mirror).
    pub overrides: Vec<(String, String)>,
    /// Folder the checked lists are written to (`EU.xml`, `PL.xml`, ...).
    pub lists_dir: PathBuf,
    /// Deadline and size bound of each fetch.
    pub limits: Limits,
    /// Configured list signers (`[trust] list_signers`).
    pub pinned: Vec<X509>,
}

/// Why nothing could be updated.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The list of lists could not be fetched (no network, server down, too large...).
    #[error("nie udało się pobrać listy list UE z {url}: {source}")]
    Fetch {
        /// The address.
        url: String,
        /// The cause.
        source: http::HttpError,
    },
    /// The list of lists is not a list of lists.
    #[error("{url} nie jest listą list UE (ETSI TS 119 612): {message}")]
    NotLotl {
        /// The address.
        url: String,
        /// What is wrong.
        message: String,
    },
}

/// The outcome: one note per list, the files written, and whether every list passed.
#[derive(Debug, Clone, Default)]
pub struct Updated {
    /// What was fetched, taken or refused, and why.
    pub notes: Vec<String>,
    /// Files written.
    pub written: Vec<PathBuf>,
    /// Every requested list was fetched, passed its checks and was written.
    pub complete: bool,
}

/// The XML address of a territory's list among the pointers of the list of lists (each
/// territory has one for the XML list and usually one for a PDF rendering).
pub fn pointer_for(lotl: &super::tl::TrustedList, territory: &str) -> Option<String> {
    let all: Vec<String> = lotl
        .pointers
        .iter()
        .filter(|p| p.territory.as_deref() == Some(territory))
        .map(|p| p.location.trim().to_string())
        .collect();
    all.iter()
        .find(|l| l.to_ascii_lowercase().ends_with(".xml"))
        .or_else(|| {
            all.iter()
                .find(|l| !l.to_ascii_lowercase().ends_with(".pdf"))
        })
        .cloned()
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Fetches, checks and stores the lists of `req`.
pub fn update(req: &Request) -> Result<Updated, UpdateError> {
    let lotl_bytes =
        http::get(&req.lotl_url, &req.limits).map_err(|source| UpdateError::Fetch {
            url: req.lotl_url.clone(),
            source,
        })?;
    let lotl = std::str::from_utf8(&lotl_bytes)
        .map_err(|e| e.to_string())
        .and_then(|t| super::tl::parse::parse(t).map_err(|e| e.to_string()))
        .map_err(|message| UpdateError::NotLotl {
            url: req.lotl_url.clone(),
            message,
        })?;
    if lotl.territory != "EU" || lotl.pointers.is_empty() {
        return Err(UpdateError::NotLotl {
            url: req.lotl_url.clone(),
            message: format!(
                "terytorium {}, {} wskazań",
                lotl.territory,
                lotl.pointers.len()
            ),
        });
    }
    let mut notes = Vec::new();
    let mut complete = true;
    let mut files = vec![("EU.xml".to_string(), lotl_bytes)];
    for territory in &req.territories {
        let url = req
            .overrides
            .iter()
            .find(|(t, _)| t == territory)
            .map(|(_, u)| u.clone())
            .or_else(|| pointer_for(&lotl, territory));
        let Some(url) = url else {
            notes.push(format!(
                "{territory}: lista list UE nie podaje adresu tej listy"
            ));
            complete = false;
            continue;
        };
        match http::get(&url, &req.limits) {
            Ok(bytes) => files.push((format!("{territory}.xml"), bytes)),
            Err(e) => {
                notes.push(format!("{territory}: nie udało się pobrać {url}: {e}"));
                complete = false;
            }
        }
    }
    let mut trust = Trust::default();
    notes.extend(trust.add_lists(&files, &req.pinned));
    let mut written = Vec::new();
    for (name, bytes) in &files {
        let territory = name.trim_end_matches(".xml");
        if !trust.lists.iter().any(|l| l.territory == territory) {
            complete = false;
            continue;
        }
        let path = req.lists_dir.join(name);
        match write_atomically(&path, bytes) {
            Ok(()) => written.push(path),
            Err(e) => {
                notes.push(format!("{}: {e}", path.display()));
                complete = false;
            }
        }
    }
    Ok(Updated {
        notes,
        written,
        complete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eu_list_of_lists_gives_the_xml_address_of_the_polish_list() {
        let base = std::env::var("PODAWCZA_CORPUS")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus").into());
        let eu = std::fs::read_to_string(format!("{base}/dss/trusted-lists/EU.xml")).unwrap();
        let lotl = super::super::tl::parse::parse(&eu).unwrap();
        assert_eq!(
            pointer_for(&lotl, "PL").as_deref(),
            Some("https://www.nccert.pl/tsl/PL_TSL.xml")
        );
        assert_eq!(pointer_for(&lotl, "XX"), None);
    }
}
