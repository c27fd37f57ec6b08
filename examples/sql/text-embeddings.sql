-- Raw text to embeddings with ML_PREDICT: JSON events with a text field from Kafka, each text
-- tokenized in the task manager (a HuggingFace tokenizer.json), run through a text encoder batched
-- with other rows, and written as a mean-pooled, L2-normalised embedding to Kafka. Runs as it is with
--     bin/flink-tensorrt sql -f examples/sql/text-embeddings.sql
-- (an embedded Kafka; or --bootstrap-servers host:9092), and on a cluster with SqlJobMain (README).
-- ${bootstrap_servers} and ${home} are filled in by the command; --var NAME=VALUE sets others.
-- models/text/ holds a tiny WordPiece tokenizer and encoder (8-dim embeddings, 16 tokens) made for
-- this example (models/text/README.md); put your own tokenizer.json and model in their place.

-- Rows in flight per subtask: batches hold at most this many rows, so give it (buffers + 1) x max-batch.
SET 'table.exec.async-ml-predict.max-concurrent-operations' = '256';
SET 'execution.checkpointing.interval' = '2 s';

CREATE TABLE events (
  id     STRING,
  author STRING,
  text   STRING      -- the raw text; the model never sees it, only its tokens
) WITH (
  'connector' = 'kafka',
  'topic' = 'text-events',
  'properties.bootstrap.servers' = '${bootstrap_servers}',
  'properties.group.id' = 'text-embeddings-example',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'json'
);

CREATE TABLE embeddings (
  id        STRING,
  author    STRING,
  embedding ARRAY<FLOAT>,  -- mean over the text's tokens of the encoder's hidden states, unit length
  truncated BOOLEAN,       -- the text had more tokens than the model takes and was cut
  error     STRING         -- why a text got no embedding (null, empty, too long); null for good rows
) WITH (
  'connector' = 'kafka',
  'topic' = 'text-embeddings',
  'properties.bootstrap.servers' = '${bootstrap_servers}',
  'format' = 'json',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'text-embeddings-example',
  -- a default broker refuses the connector's own default (1 h) as above transaction.max.timeout.ms
  'properties.transaction.timeout.ms' = '900000'
);

-- INPUT is one STRING column: 'tokenizer' turns it into the model's input_ids, attention_mask and
-- token_type_ids. OUTPUT names answers, not tensors: embedding (with 'pooling'), truncated, error.
-- Everything is checked when the INSERT below is planned. 'auto' runs TensorRT where a GPU is, else
-- ONNX Runtime.
CREATE MODEL text_encoder
  INPUT (text STRING)
  OUTPUT (embedding ARRAY<FLOAT>, truncated BOOLEAN, error STRING)
  WITH (
    'provider' = 'auto',
    'model' = '${home}/models/text/text_encoder.onnx',
    'tokenizer' = '${home}/models/text/tokenizer.json',
    'pooling' = 'mean',
    'normalize' = 'true',
    'max-batch' = '64',
    'max-delay' = '5 ms'
  );

-- Sample events, so that the local run has something to do (leave this out on a real stream).
SET 'table.dml-sync' = 'true';
INSERT INTO events VALUES
  ('e1', 'ana', 'Flink runs the model on the GPU'),
  ('e2', 'bo', 'I love Kafka, but I hate slow jobs!'),
  ('e3', 'ana', 'the stream was very good and the answer was fast'),
  ('e4', 'cy', 'batching tokens is not bad'),
  -- e5 has more than the model's 16 tokens: it is cut there, and says truncated = true
  ('e5', 'bo', 'a very very very very long text is cut at the model length and the job runs on and on'),
  -- e6 is empty: it comes out with a null embedding and the reason in `error`
  ('e6', 'cy', '');
SET 'table.dml-sync' = 'false';

-- The pipeline: keeps running on new events.
INSERT INTO embeddings
  SELECT id, author, embedding, truncated, error
  FROM ML_PREDICT(TABLE events, MODEL text_encoder, DESCRIPTOR(text));

-- A look at the results (read_committed: they show once a checkpoint has committed them).
CREATE TEMPORARY TABLE embeddings_view WITH ('scan.startup.mode' = 'earliest-offset',
  'properties.group.id' = 'text-embeddings-example-view', 'properties.isolation.level' = 'read_committed')
  LIKE embeddings;
SELECT id, truncated, embedding, error FROM embeddings_view LIMIT 6;
