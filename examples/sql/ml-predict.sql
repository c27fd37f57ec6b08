-- ML_PREDICT on flink-tensorrt: JSON rows from Kafka, through a model batched in the task manager,
-- results as JSON to Kafka. Runs as it is with
--     bin/flink-tensorrt sql -f examples/sql/ml-predict.sql
-- (an embedded Kafka; or --bootstrap-servers host:9092), and on a cluster with SqlJobMain (README).
-- ${bootstrap_servers} and ${home} are filled in by the command; --var NAME=VALUE sets others.

-- Rows in flight per subtask: batches hold at most this many rows, so give it (buffers + 1) x max-batch.
SET 'table.exec.async-ml-predict.max-concurrent-operations' = '256';
SET 'execution.checkpointing.interval' = '2 s';

CREATE TABLE requests (
  id STRING,
  a  ARRAY<FLOAT>,   -- tensor a: FLOAT32 [N, 8], flattened
  b  ARRAY<FLOAT>    -- tensor b: FLOAT32 [N, 8]
) WITH (
  'connector' = 'kafka',
  'topic' = 'sql-requests',
  'properties.bootstrap.servers' = '${bootstrap_servers}',
  'properties.group.id' = 'ml-predict-example',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'json'
);

CREATE TABLE results (
  id       STRING,
  mix      ARRAY<FLOAT>,  -- tensor mix: FLOAT32 [N, 4]
  distance FLOAT,         -- tensor distance: FLOAT32 [N, 1], one element per row: a scalar column
  error    STRING         -- why a row got no outputs (null, wrong length, ...); null for good rows
) WITH (
  'connector' = 'kafka',
  'topic' = 'sql-results',
  'properties.bootstrap.servers' = '${bootstrap_servers}',
  'format' = 'json',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'ml-predict-example',
  -- a default broker refuses the connector's own default (1 h) as above transaction.max.timeout.ms
  'properties.transaction.timeout.ms' = '900000'
);

-- Columns match the model's tensors by name (else by position); every mismatch is refused when the
-- INSERT below is planned. 'auto' runs TensorRT where a GPU is, else ONNX Runtime.
CREATE MODEL two_in_two_out
  INPUT (a ARRAY<FLOAT>, b ARRAY<FLOAT>)
  OUTPUT (mix ARRAY<FLOAT>, distance FLOAT, error STRING)
  WITH (
    'provider' = 'auto',
    'model' = '${home}/models/two_in_two_out.onnx',
    'max-batch' = '64',
    'max-delay' = '5 ms'
  );

-- Sample rows, so that the local run has something to do (leave this out on a real stream).
SET 'table.dml-sync' = 'true';
CREATE TEMPORARY TABLE numbers (n BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1000',
  'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '1000');
INSERT INTO requests
  SELECT CONCAT('r', CAST(n AS STRING)),
         CAST(ARRAY[n % 7, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, n % 3] AS ARRAY<FLOAT>),
         -- row r3's b is one element short: it comes out with null outputs and the reason in `error`
         CAST(CASE WHEN n = 3 THEN ARRAY[1.0] ELSE ARRAY[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, n % 5] END AS ARRAY<FLOAT>)
  FROM numbers;
SET 'table.dml-sync' = 'false';

-- The pipeline: keeps running on new requests.
INSERT INTO results
  SELECT id, mix, distance, error
  FROM ML_PREDICT(TABLE requests, MODEL two_in_two_out, DESCRIPTOR(a, b));

-- A look at the results (read_committed: they show once a checkpoint has committed them).
CREATE TEMPORARY TABLE results_view WITH ('scan.startup.mode' = 'earliest-offset',
  'properties.group.id' = 'ml-predict-example-view', 'properties.isolation.level' = 'read_committed')
  LIKE results;
SELECT id, distance, mix, error FROM results_view LIMIT 5;
