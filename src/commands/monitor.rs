//! `copr monitor [OWNER/]PROJECT`: one row per package and chroot with its latest build.

use serde_json::{Map, Value};

use crate::cli::{GlobalArgs, MonitorArgs};
use crate::commands::remote::{self, Remote};
use crate::error::{CliError, ExitStatus};

/// Columns that the server adds only when asked.
const ON_REQUEST: &[&str] = &["url_build_log", "url_backend_log"];

pub fn run(global: &GlobalArgs, args: MonitorArgs) -> Result<ExitStatus, CliError> {
    let remote = Remote::open(&args.remote)?;
    let mut p = remote.project(&args.project)?;
    if let Some(dir) = &args.dirname {
        p.dirname = dir.clone();
    }
    let extra: Vec<String> = args
        .fields
        .iter()
        .filter(|f| ON_REQUEST.contains(&f.as_str()))
        .cloned()
        .collect();
    let answer = remote
        .client
        .monitor(&p, &extra)
        .map_err(|e| remote.err(e))?;
    let mut rows: Vec<Map<String, Value>> = Vec::new();
    for package in answer["packages"].as_array().into_iter().flatten() {
        for (chroot, info) in package["chroots"].as_object().into_iter().flatten() {
            let mut row = Map::new();
            for field in &args.fields {
                let value = match field.as_str() {
                    "name" => package["name"].clone(),
                    "chroot" => Value::String(chroot.clone()),
                    "url_build" => match info["build_id"].as_i64() {
                        Some(id) => Value::String(remote.client.build_url(id)),
                        None => Value::Null,
                    },
                    other => info.get(other).cloned().unwrap_or(Value::Null),
                };
                row.insert(field.clone(), value);
            }
            rows.push(row);
        }
    }
    if remote::json(global) {
        remote::print_json(&rows)?;
        return Ok(ExitStatus::Success);
    }
    let header: Vec<String> = args.fields.iter().map(|f| f.to_uppercase()).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = remote::table(&header);
    for row in &rows {
        t.add_row(
            args.fields
                .iter()
                .map(|f| match &row[f] {
                    Value::String(s) => s.clone(),
                    Value::Null => "-".to_string(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>(),
        );
    }
    remote::print_table(&t)?;
    Ok(ExitStatus::Success)
}
