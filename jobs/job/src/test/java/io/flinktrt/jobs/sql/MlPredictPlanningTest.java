package io.flinktrt.jobs.sql;

import io.flinktrt.testing.TestModels;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every mismatch between a model's INPUT/OUTPUT columns and its tensors is refused when the
 * ML_PREDICT statement is planned, with a message that names the column, the tensor, both types and
 * both shapes; nothing runs. two_in_two_out: a, b FLOAT32 [N,8] -> mix FLOAT32 [N,4], distance
 * FLOAT32 [N,1].
 */
class MlPredictPlanningTest {

    private static final String MODEL = TestModels.path(TestModels.TWO_IN_TWO_OUT).toString();

    private TableEnvironment tables;

    @BeforeEach
    void tables() {
        tables = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        tables.executeSql(
                "CREATE TEMPORARY VIEW requests AS SELECT * FROM (VALUES"
                        + " (CAST(ARRAY[1.0] AS ARRAY<FLOAT>), CAST(ARRAY[1.0] AS ARRAY<FLOAT>), CAST(ARRAY[1.0] AS ARRAY<DOUBLE>),"
                        + " CAST(ARRAY[1] AS ARRAY<INT>), CAST(1.0 AS FLOAT), CAST(x'00' AS BYTES), CAST(x'00' AS BINARY(31))))"
                        + " AS t(a, b, d, i, f, anybytes, fixed)");
    }

    private void plan(String input, String output, String options, String descriptor) {
        tables.executeSql(
                "CREATE TEMPORARY MODEL m INPUT ("
                        + input
                        + ") OUTPUT ("
                        + output
                        + ") WITH ("
                        + "'provider' = 'onnxruntime', 'model' = '"
                        + MODEL
                        + "'"
                        + options
                        + ")");
        tables.explainSql(
                "SELECT * FROM ML_PREDICT(TABLE requests, MODEL m, DESCRIPTOR("
                        + descriptor
                        + "))");
    }

    private void planOutputs(String output) {
        plan("a ARRAY<FLOAT>, b ARRAY<FLOAT>", output, "", "a, b");
    }

    @Test
    void anElementTypeNoEngineTakes() {
        assertThatThrownBy(
                        () ->
                                plan(
                                        "a ARRAY<DOUBLE>, b ARRAY<FLOAT>",
                                        "mix ARRAY<FLOAT>",
                                        "",
                                        "d, b"))
                .hasStackTraceContaining(
                        "Model INPUT column 'a' (ARRAY<DOUBLE>, shape [any length, checked per row])"
                                + " does not fit tensor 'a' (FLOAT32, sample shape [8], 32 bytes per row): the engines take no"
                                + " DOUBLE elements. Declare the column as ARRAY<FLOAT> or BYTES.");
    }

    @Test
    void anElementTypeOfAnotherDtype() {
        assertThatThrownBy(
                        () -> plan("a ARRAY<INT>, b ARRAY<FLOAT>", "mix ARRAY<FLOAT>", "", "i, b"))
                .hasStackTraceContaining("Model INPUT column 'a' (ARRAY<INT>")
                .hasStackTraceContaining("tensor 'a' (FLOAT32, sample shape [8]")
                .hasStackTraceContaining("INT elements are INT32, not FLOAT32");
    }

    @Test
    void aScalarColumnForATensorOfManyElements() {
        assertThatThrownBy(() -> plan("a FLOAT, b ARRAY<FLOAT>", "mix ARRAY<FLOAT>", "", "f, b"))
                .hasStackTraceContaining(
                        "Model INPUT column 'a' (FLOAT, shape [1]) does not fit tensor 'a' (FLOAT32,"
                                + " sample shape [8], 32 bytes per row): a scalar column carries one element, the tensor has"
                                + " 8 per row");
    }

    @Test
    void fixedBytesOfTheWrongLength() {
        assertThatThrownBy(
                        () ->
                                plan(
                                        "a BINARY(31), b ARRAY<FLOAT>",
                                        "mix ARRAY<FLOAT>",
                                        "",
                                        "fixed, b"))
                .hasStackTraceContaining(
                        "Model INPUT column 'a' (BINARY(31), shape 31 bytes) does not fit tensor 'a'"
                                + " (FLOAT32, sample shape [8], 32 bytes per row): the byte lengths differ");
    }

    @Test
    void anOutputOfTheWrongType() {
        assertThatThrownBy(() -> planOutputs("mix ARRAY<BIGINT>, distance FLOAT"))
                .hasStackTraceContaining("Model OUTPUT column 'mix' (ARRAY<BIGINT>")
                .hasStackTraceContaining(
                        "tensor 'mix' (FLOAT32, sample shape [4], 16 bytes per row)")
                .hasStackTraceContaining("BIGINT elements are INT64, not FLOAT32");
    }

    @Test
    void columnsMatchingNeitherNamesNorCount() {
        assertThatThrownBy(
                        () ->
                                plan(
                                        "x ARRAY<FLOAT>, y ARRAY<FLOAT>, z ARRAY<FLOAT>",
                                        "mix ARRAY<FLOAT>",
                                        "",
                                        "a, b, a"))
                .hasStackTraceContaining(
                        "Model INPUT columns [x, y, z] match neither the names nor the number of the"
                                + " model's input tensors [a:FLOAT32[N, 8], b:FLOAT32[N, 8]]");
    }

    @Test
    void aTensorWithoutAColumn() {
        assertThatThrownBy(() -> plan("a ARRAY<FLOAT>", "mix ARRAY<FLOAT>", "", "a"))
                .hasStackTraceContaining("Model INPUT has no column for tensor(s) [b]");
    }

    @Test
    void columnsInTheOtherOrderWhenMatchedByPosition() {
        assertThatThrownBy(
                        () ->
                                plan(
                                        "b ARRAY<FLOAT>, other ARRAY<FLOAT>",
                                        "mix ARRAY<FLOAT>",
                                        "",
                                        "a, b"))
                .hasStackTraceContaining(
                        "Model INPUT column 'b' is at position 1 but tensor 'b' is at position 2");
    }

    @Test
    void anErrorColumnThatIsNotAString() {
        assertThatThrownBy(() -> planOutputs("mix ARRAY<FLOAT>, error INT"))
                .hasStackTraceContaining(
                        "Model OUTPUT column 'error' is the error column ('error-column'), so it"
                                + " must be STRING, not INT.");
    }

    @Test
    void aNotNullOutputWhenBadRowsAreEmitted() {
        assertThatThrownBy(() -> planOutputs("mix ARRAY<FLOAT> NOT NULL"))
                .hasStackTraceContaining(
                        "Model OUTPUT column 'mix' is NOT NULL, but with 'error-handling-strategy' ="
                                + " 'EMIT' a bad row is emitted with null outputs.");
    }

    @Test
    void aMissingModelFile() {
        assertThatThrownBy(
                        () -> {
                            tables.executeSql(
                                    "CREATE TEMPORARY MODEL m INPUT (a ARRAY<FLOAT>, b ARRAY<FLOAT>) OUTPUT (mix ARRAY<FLOAT>)"
                                            + " WITH ('provider' = 'auto', 'model' = '/nowhere/model.onnx')");
                            tables.explainSql(
                                    "SELECT * FROM ML_PREDICT(TABLE requests, MODEL m, DESCRIPTOR(a, b))");
                        })
                .hasStackTraceContaining(
                        "Model file /nowhere/model.onnx does not exist where the statement is planned");
    }

    @Test
    void aPlanForTheOnnxRuntimeProvider() {
        assertThatThrownBy(
                        () -> {
                            tables.executeSql(
                                    "CREATE TEMPORARY MODEL m INPUT (a ARRAY<FLOAT>, b ARRAY<FLOAT>) OUTPUT (mix ARRAY<FLOAT>)"
                                            + " WITH ('provider' = 'onnxruntime', 'model' = '/models/encoder.plan')");
                            tables.explainSql(
                                    "SELECT * FROM ML_PREDICT(TABLE requests, MODEL m, DESCRIPTOR(a, b))");
                        })
                .hasStackTraceContaining("Provider 'onnxruntime' cannot open encoder.plan");
    }

    @Test
    void anUnknownOption() {
        assertThatThrownBy(() -> planWith(", 'max-batchsize' = '8'"))
                .hasStackTraceContaining("Unsupported options")
                .hasStackTraceContaining("max-batchsize");
    }

    @Test
    void aRowTimeoutNotBelowMlPredictsTimeout() {
        assertThatThrownBy(
                        () -> {
                            planWith(", 'row-timeout' = '1 min'");
                            tables.executeSql(
                                    "SELECT * FROM ML_PREDICT(TABLE requests, MODEL m, DESCRIPTOR(a, b),"
                                            + " MAP['timeout', '30 s'])");
                        })
                .hasStackTraceContaining(
                        "'row-timeout' (PT1M) must be shorter than ML_PREDICT's timeout (PT30S)");
    }

    private void planWith(String options) {
        plan("a ARRAY<FLOAT>, b ARRAY<FLOAT>", "mix ARRAY<FLOAT>, distance FLOAT", options, "a, b");
    }
}
