//! Request parameters as copr clients send them: the query string, a JSON body, a form, or a
//! multipart body whose `json` part holds the fields. Body fields win over query fields.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};

/// Largest non-upload request body.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct Input {
    pub query: Map<String, Value>,
    pub body: Map<String, Value>,
    /// Files of a multipart body: (field, file name, content).
    pub files: Vec<(String, String, Bytes)>,
}

fn parse_pairs(s: &[u8], into: &mut Map<String, Value>) {
    for (k, v) in url::form_urlencoded::parse(s) {
        // Repeated keys (additional_fields[]) become lists.
        match into.get_mut(k.as_ref()) {
            Some(Value::Array(a)) => a.push(Value::String(v.into_owned())),
            Some(old) => {
                let prev = old.take();
                *old = Value::Array(vec![prev, Value::String(v.into_owned())]);
            }
            None => {
                into.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for Input {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut input = Input::default();
        if let Some(q) = req.uri().query() {
            parse_pairs(q.as_bytes(), &mut input.query);
        }
        let ctype = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if ctype.starts_with("multipart/form-data") {
            let mut mp = Multipart::from_request(req, state)
                .await
                .map_err(|e| ApiError::BadRequest(format!("invalid multipart body: {e}")))?;
            while let Some(field) = mp
                .next_field()
                .await
                .map_err(|e| ApiError::BadRequest(format!("invalid multipart body: {e}")))?
            {
                let name = field.name().unwrap_or("").to_string();
                let file_name = field.file_name().map(str::to_string);
                let data = field
                    .bytes()
                    .await
                    .map_err(|e| ApiError::BadRequest(format!("invalid multipart body: {e}")))?;
                if name == "json" {
                    merge_json(&data, &mut input.body)?;
                } else if let Some(f) = file_name {
                    input.files.push((name, f, data));
                } else {
                    input.body.insert(
                        name,
                        Value::String(String::from_utf8_lossy(&data).into_owned()),
                    );
                }
            }
            return Ok(input);
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| ApiError::TooLarge("The request body is too large.".into()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(input);
        }
        if ctype.starts_with("application/x-www-form-urlencoded") {
            parse_pairs(&bytes, &mut input.body);
        } else {
            merge_json(&bytes, &mut input.body)?;
        }
        Ok(input)
    }
}

fn merge_json(data: &[u8], into: &mut Map<String, Value>) -> ApiResult<()> {
    match serde_json::from_slice::<Value>(data) {
        Ok(Value::Object(m)) => {
            for (k, v) in m {
                if !v.is_null() {
                    into.insert(k, v);
                }
            }
            Ok(())
        }
        Ok(Value::Null) => Ok(()),
        Ok(_) => Err(ApiError::BadRequest(
            "The request body must be a JSON object.".into(),
        )),
        Err(e) => Err(ApiError::BadRequest(format!("Invalid JSON body: {e}"))),
    }
}

fn value_str(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        other => Some(other.to_string()),
    }
}

pub fn parse_bool(key: &str, v: &Value) -> ApiResult<Option<bool>> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::Number(n) => Ok(Some(n.as_i64() != Some(0))),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "n" | "off" | "" => Ok(Some(false)),
            _ => Err(ApiError::BadRequest(format!(
                "{key}: Not a valid boolean value: '{s}'"
            ))),
        },
        _ => Err(ApiError::BadRequest(format!(
            "{key}: Not a valid boolean value"
        ))),
    }
}

impl Input {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.body
            .get(key)
            .filter(|v| !v.is_null())
            .or_else(|| self.query.get(key).filter(|v| !v.is_null()))
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn str(&self, key: &str) -> Option<String> {
        self.get(key).and_then(value_str)
    }

    /// A string that must be present and non-empty.
    pub fn required(&self, key: &str) -> ApiResult<String> {
        self.str(key)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::BadRequest(format!("{key}: This field is required.")))
    }

    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => parse_bool(key, v),
        }
    }

    pub fn i64(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| ApiError::BadRequest(format!("{key}: Not a valid integer value"))),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| {
                ApiError::BadRequest(format!("{key}: Not a valid integer value: '{s}'"))
            }),
            Some(_) => Err(ApiError::BadRequest(format!(
                "{key}: Not a valid integer value"
            ))),
        }
    }

    /// A list: a JSON array, or a string split on whitespace (and commas when `commas`).
    pub fn list_with(&self, key: &str, commas: bool) -> Option<Vec<String>> {
        let split = |s: &str| -> Vec<String> {
            s.split(|c: char| c.is_whitespace() || (commas && c == ','))
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        match self.get(key)? {
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(value_str)
                    .flat_map(|s| split(&s))
                    .collect(),
            ),
            v => value_str(v).map(|s| split(&s)),
        }
    }

    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        self.list_with(key, false)
    }
}
