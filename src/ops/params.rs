//! `key=value` parameters of an op, checked against the op's declared list.

use serde_json::{Map, Value};

use super::OpSpec;
use crate::image::DType;
use crate::{Error, Result};

/// A declared parameter: name, default (as text) and a one-line description.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// Resolved parameters: every declared one, the user's value or the default.
#[derive(Clone, Debug)]
pub struct Params {
    values: Vec<(&'static str, String)>,
}

impl Params {
    /// Resolves `key=value` strings for `spec`. Unknown keys, repeated keys and text
    /// without `=` are errors.
    pub fn parse<S: AsRef<str>>(spec: &OpSpec, given: &[S]) -> Result<Params> {
        let mut values: Vec<(&'static str, String)> = spec
            .params
            .iter()
            .map(|p| (p.name, p.default.to_string()))
            .collect();
        let mut seen: Vec<&str> = Vec::new();
        for item in given {
            let item = item.as_ref();
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| Error::bad_param(item, "expected key=value"))?;
            let (key, value) = (key.trim(), value.trim());
            let slot = values.iter_mut().find(|(k, _)| *k == key).ok_or_else(|| {
                let known: Vec<_> = spec.params.iter().map(|p| p.name).collect();
                let known = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                Error::bad_param(
                    key,
                    format!("op '{}' has no such parameter (known: {known})", spec.name),
                )
            })?;
            if seen.contains(&key) {
                return Err(Error::bad_param(key, "given more than once"));
            }
            seen.push(slot.0);
            slot.1 = value.to_string();
        }
        Ok(Params { values })
    }

    /// The raw text of a declared parameter.
    pub fn str(&self, name: &str) -> Result<&str> {
        self.values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| Error::bad_param(name, "not a parameter of this op"))
    }

    /// A finite number.
    pub fn f64(&self, name: &str) -> Result<f64> {
        let text = self.str(name)?;
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| Error::bad_param(name, format!("'{text}' is not a finite number")))
    }

    /// An integer in `min..=max`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<i64> {
        let text = self.str(name)?;
        let v: i64 = text
            .parse()
            .map_err(|_| Error::bad_param(name, format!("'{text}' is not an integer")))?;
        if (min..=max).contains(&v) {
            Ok(v)
        } else {
            Err(Error::bad_param(
                name,
                format!("{v} is outside {min}..={max}"),
            ))
        }
    }

    /// A pixel type name (`u8`, `u16`, `f32`, `i32`, `u32`).
    pub fn dtype(&self, name: &str) -> Result<DType> {
        let text = self.str(name)?;
        DType::parse(text).ok_or_else(|| {
            Error::bad_param(
                name,
                format!("'{text}' is not a dtype (u8, u16, f32, i32, u32)"),
            )
        })
    }

    /// One of `choices`.
    pub fn choice(&self, name: &str, choices: &[&'static str]) -> Result<&'static str> {
        let text = self.str(name)?;
        choices.iter().copied().find(|c| *c == text).ok_or_else(|| {
            Error::bad_param(
                name,
                format!("'{text}' is not one of {}", choices.join(", ")),
            )
        })
    }

    /// As a JSON object: numbers where the text is a number, strings otherwise.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        for (k, v) in &self.values {
            let value = if let Ok(i) = v.parse::<i64>() {
                Value::from(i)
            } else if let Some(f) = v.parse::<f64>().ok().filter(|f| f.is_finite()) {
                Value::from(f)
            } else {
                Value::from(v.clone())
            };
            map.insert((*k).to_string(), value);
        }
        Value::Object(map)
    }
}
