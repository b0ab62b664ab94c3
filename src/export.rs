//! Tabular data leaving the tool: tidy tables written as Parquet or CSV with polars, one batch
//! at a time (a history of months never sits in memory whole), into a temporary file renamed
//! into place when complete — a failed export leaves no half-written file.

use std::path::{Path, PathBuf};

use polars::io::csv::write::BatchedWriter as CsvBatched;
use polars::io::parquet::write::BatchedWriter as ParquetBatched;
use polars::prelude::{
    Column, CsvWriter, DataFrame, DataType, Field, ParquetCompression, ParquetWriter, Schema,
    SerWriter,
};

use crate::error::{Error, Result};

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Parquet,
    Csv,
}

impl TableFormat {
    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Parquet => "parquet",
            TableFormat::Csv => "csv",
        }
    }
}

/// A column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    Text,
    /// Text that may be missing (NULL in Parquet, empty in CSV).
    OptionalText,
}

/// One batch's values of one column, in the table's column order.
#[derive(Debug, Clone)]
pub enum Values {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Text(Vec<String>),
    OptionalText(Vec<Option<String>>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Text(v) => v.len(),
            Values::OptionalText(v) => v.len(),
        }
    }
}

enum Inner {
    Parquet(Box<ParquetBatched<std::fs::File>>),
    Csv(CsvBatched<std::fs::File>),
}

/// A table being written batch by batch.
pub struct TableWriter {
    path: PathBuf,
    names: Vec<&'static str>,
    tmp: tempfile::NamedTempFile,
    inner: Inner,
    rows: u64,
}

fn failed(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::write(path, e)
}

impl TableWriter {
    /// Starts `path` with these columns.
    pub fn create(
        path: &Path,
        format: TableFormat,
        columns: &[(&'static str, Kind)],
    ) -> Result<TableWriter> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".pgparity-export-")
            .tempfile_in(dir)
            .map_err(|e| Error::write_io(path, e))?;
        let file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| Error::write_io(path, e))?;
        let schema: Schema = columns
            .iter()
            .map(|(name, kind)| {
                Field::new(
                    (*name).into(),
                    match kind {
                        Kind::Int => DataType::Int64,
                        Kind::Float => DataType::Float64,
                        Kind::Text | Kind::OptionalText => DataType::String,
                    },
                )
            })
            .collect();
        let inner = match format {
            TableFormat::Parquet => Inner::Parquet(Box::new(
                ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&schema)
                    .map_err(|e| failed(path, e))?,
            )),
            TableFormat::Csv => Inner::Csv(
                CsvWriter::new(file)
                    .include_header(true)
                    .batched(&schema)
                    .map_err(|e| failed(path, e))?,
            ),
        };
        Ok(TableWriter {
            path: path.to_path_buf(),
            names: columns.iter().map(|(n, _)| *n).collect(),
            tmp,
            inner,
            rows: 0,
        })
    }

    /// Appends a batch: one `Values` per column, in the table's order, all the same length.
    pub fn write(&mut self, values: Vec<Values>) -> Result<()> {
        let height = values.first().map(Values::len).unwrap_or(0);
        if height == 0 {
            return Ok(());
        }
        let columns: Vec<Column> = self
            .names
            .iter()
            .zip(values)
            .map(|(name, v)| {
                let name = (*name).into();
                match v {
                    Values::Int(v) => Column::new(name, v),
                    Values::Float(v) => Column::new(name, v),
                    Values::Text(v) => Column::new(name, v),
                    Values::OptionalText(v) => Column::new(name, v),
                }
            })
            .collect();
        let df = DataFrame::new(height, columns).map_err(|e| failed(&self.path, e))?;
        match &mut self.inner {
            Inner::Parquet(w) => w.write_batch(&df),
            Inner::Csv(w) => w.write_batch(&df),
        }
        .map_err(|e| failed(&self.path, e))?;
        self.rows += height as u64;
        Ok(())
    }

    /// Ends the table and moves it into place; returns its rows.
    pub fn finish(self) -> Result<u64> {
        match self.inner {
            Inner::Parquet(w) => w.finish().map(|_| ()),
            Inner::Csv(mut w) => w.finish(),
        }
        .map_err(|e| failed(&self.path, e))?;
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::write_io(&self.path, e))?;
        self.tmp
            .persist(&self.path)
            .map_err(|e| Error::write_io(&self.path, e.error))?;
        Ok(self.rows)
    }
}
