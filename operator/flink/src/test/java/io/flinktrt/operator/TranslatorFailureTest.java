package io.flinktrt.operator;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.onnxruntime.OnnxRuntimeBackend;
import io.flinktrt.batching.BatchInfo;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.testing.TestModels;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.streaming.api.datastream.AsyncDataStream.OutputMode;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A user's translator that throws on one record: only that record goes to the failure path, its
 * batch runs.
 */
@Timeout(60)
class TranslatorFailureTest {

    @Test
    void aTranslatorThrowingOnOneRecordFailsOnlyThatRecord() throws Exception {
        InferenceFunction<String, String> function =
                InferenceFunction.builder()
                        .setModel(TestModels.path(TestModels.MLP).toString())
                        .setBackend(OnnxRuntimeBackend.NAME)
                        .setMaxBatchSize(4)
                        .setMaxDelay(Duration.ofSeconds(20))
                        .build(new ThrowingTranslator());
        List<String> inputs = List.of("a", "throw-in-prepare", "b", "throw-in-read", "c");
        try (var harness =
                new OneInputStreamOperatorTestHarness<>(
                        new AsyncWaitOperatorFactory<>(function, 30_000, 10, OutputMode.ORDERED),
                        StringSerializer.INSTANCE)) {
            harness.open();
            for (String input : inputs) {
                harness.processElement(new StreamRecord<>(input));
            }
            harness.endInput(); // the four prepared records form one full batch
            assertThat(harness.extractOutputValues())
                    .containsExactly(
                            "result a (batch of 4)",
                            "rejected throw-in-prepare: UNDECODABLE",
                            "result b (batch of 4)",
                            "failed throw-in-read: BACKEND_ERROR",
                            "result c (batch of 4)");
        }
    }

    /** Strings in and out; each record's one feature is its length. */
    private static final class ThrowingTranslator
            implements InferenceTranslator<String, String, String> {
        @Override
        public String prepare(String input, long arrivalNanos) {
            if (input.equals("throw-in-prepare")) {
                throw new IllegalStateException("cannot prepare " + input);
            }
            return input;
        }

        @Override
        public void putRow(String record, BatchBuffers buffers, int row) {
            buffers.input(0).putFloat(row * 16 * Float.BYTES, record.length());
        }

        @Override
        public String readRow(String record, BatchBuffers buffers, int row, BatchInfo batch) {
            if (record.equals("throw-in-read")) {
                throw new IllegalStateException("cannot read " + record);
            }
            return "result " + record + " (batch of " + batch.run().rows() + ")";
        }

        @Override
        public String rejected(String input, RequestRejectedException rejection) {
            return "rejected " + input + ": " + rejection.code();
        }

        @Override
        public String failed(String input, String prepared, ErrorCode code, String message) {
            return "failed " + input + ": " + code;
        }

        @Override
        public TypeInformation<String> getProducedType() {
            return Types.STRING;
        }
    }
}
