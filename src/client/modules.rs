//! Module endpoints of a copr server (`/api_3/module/…`).

use reqwest::Method;
use serde_json::Value;

use super::{Body, Client, ClientError, ProjectRef, Query};

impl Client {
    /// Submit a modulemd document to build in `project`; the answer has `nsv`, `id` and the
    /// component builds per group (`builds`).
    pub fn module_build(
        &self,
        project: &ProjectRef,
        file_name: &str,
        document: Vec<u8>,
    ) -> Result<Value, ClientError> {
        self.send(
            Method::POST,
            &["module", "build", &project.owner, &project.project],
            &Query::new(),
            Body::Multipart(
                serde_json::json!({}),
                vec![(
                    "modulemd".into(),
                    file_name.to_string(),
                    "application/x-yaml".into(),
                    document,
                )],
            ),
            true,
        )
    }

    /// Release a module from the project's latest successful builds (`body`: name, stream,
    /// version, summary, description, license, api, filter, profiles, default_profile,
    /// platform, chroots).
    pub fn module_release(&self, project: &ProjectRef, body: Value) -> Result<Value, ClientError> {
        self.send(
            Method::POST,
            &["module", "release", &project.owner, &project.project],
            &Query::new(),
            Body::Json(body),
            true,
        )
    }

    /// The binary packages of the project's latest successful builds, per chroot.
    pub fn module_packages(&self, project: &ProjectRef) -> Result<Value, ClientError> {
        self.send(
            Method::GET,
            &["module", "packages"],
            &Query::new()
                .str("ownername", project.owner.clone())
                .str("projectname", project.project.clone()),
            Body::None,
            false,
        )
    }

    /// One module.
    pub fn module_get(&self, id: i64) -> Result<Value, ClientError> {
        self.send(
            Method::GET,
            &["module", &id.to_string()],
            &Query::new(),
            Body::None,
            false,
        )
    }
}
