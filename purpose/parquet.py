"""People tables as Parquet files (pandas, Polars, DuckDB), written a row group at a time as they are sent.

The rows come in chunks from a keyset read (the caller's ``chunks``: one query per chunk, no
transaction held between them); each chunk becomes one row group, and the bytes pyarrow wrote for
it are handed to the response before the next chunk is read. So a process holds one chunk and the
file's footer (a few hundred bytes per row group), whatever the size of the brand. The column
types come from the table's own columns, so an empty file still has its schema.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Column

CONTENT_TYPE = "application/vnd.apache.parquet"
#: Rows per query and per row group: 10,000 rows of a people table are about 1 MB in memory.
ROW_GROUP = 10_000

_ARROW_TYPES = {int: pa.int64(), float: pa.float64(), str: pa.string(), bool: pa.bool_()}


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow type of a table column: integers, floats, text, booleans, and UTC timestamps."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:  # a TypeDecorator without one: our UTCDateTime
        python_type = datetime
    if python_type is datetime or python_type is object:
        return pa.timestamp("us", tz="UTC")
    return _ARROW_TYPES[python_type]


def arrow_schema(columns: Sequence[Column], names: Sequence[str] | None = None,
                 metadata: dict[str, str] | None = None) -> pa.Schema:
    names = names or [c.name for c in columns]
    return pa.schema([pa.field(n, arrow_type(c)) for n, c in zip(names, columns)], metadata=metadata)


class _Sent(io.RawIOBase):
    """Where pyarrow writes: the bytes of the last row group wait here until the response takes them."""

    def __init__(self):
        super().__init__()
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self.parts.append(data)
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def parquet_stream(schema: pa.Schema, chunks: Iterable[Sequence[tuple]]) -> Iterator[bytes]:
    """The Parquet file of ``chunks`` (tuples in ``schema``'s column order), one row group per chunk,
    yielded as it is written."""
    sink = _Sent()
    writer = pq.ParquetWriter(sink, schema)
    for rows in chunks:
        if not rows:
            continue
        columns = list(zip(*rows))
        writer.write_table(pa.Table.from_arrays([pa.array(values, type=field.type)
                                                 for values, field in zip(columns, schema)], schema=schema))
        yield sink.take()
    writer.close()
    yield sink.take()
