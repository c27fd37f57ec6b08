package io.flinktrt.jobs.sql;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SqlScriptTest {

    @Test
    void statementsEndAtSemicolonsOutsideLiteralsAndComments() {
        String script =
                """
                -- a comment; with a semicolon
                SET 'table.dml-sync' = 'true';
                CREATE TABLE t (s STRING) WITH ('k' = 'a;b', 'q' = 'it''s;');  /* block; comment */
                INSERT INTO t VALUES ('x')
                """;
        assertThat(SqlScript.parse(script, Map.of()))
                .containsExactly(
                        "SET 'table.dml-sync' = 'true'",
                        "CREATE TABLE t (s STRING) WITH ('k' = 'a;b', 'q' = 'it''s;')",
                        "INSERT INTO t VALUES ('x')");
    }

    @Test
    void aStatementSetIsOneStatement() {
        String script =
                "EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; INSERT INTO b SELECT 2; END; SELECT 3;";
        assertThat(SqlScript.parse(script, Map.of()))
                .containsExactly(
                        "EXECUTE STATEMENT SET BEGIN INSERT INTO a SELECT 1; INSERT INTO b SELECT 2; END",
                        "SELECT 3");
    }

    @Test
    void variablesAreReplacedAndAnUndefinedOneIsNamed() {
        assertThat(
                        SqlScript.parse(
                                "CREATE TABLE t WITH ('servers' = '${bootstrap_servers}')",
                                Map.of("bootstrap_servers", "kafka:9092")))
                .containsExactly("CREATE TABLE t WITH ('servers' = 'kafka:9092')");
        assertThatThrownBy(() -> SqlScript.parse("SELECT '${model_dir}'", Map.of("home", "/x")))
                .hasMessage(
                        "The script uses ${model_dir}, which is not defined; pass --var model_dir=VALUE"
                                + " (defined: [home]).");
    }
}
