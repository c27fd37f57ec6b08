package io.flinktrt.jobs.sql;

import org.apache.flink.annotation.Internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A SQL script as the SQL client reads one: statements ended by {@code ;}, {@code --} and {@code /*
 * *}{@code /} comments, a {@code STATEMENT SET} block ({@code ... BEGIN ...; END;}) as one
 * statement. {@code ${name}} is replaced by a variable's value, so one script runs against the
 * embedded Kafka locally and against a real one on a cluster.
 */
@Internal
public final class SqlScript {

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z0-9_.-]+)}");

    private SqlScript() {}

    public static List<String> read(Path file, Map<String, String> variables) throws IOException {
        return parse(Files.readString(file), variables);
    }

    public static List<String> parse(String script, Map<String, String> variables) {
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int i = 0;
        while (i < script.length()) {
            char c = script.charAt(i);
            if (c == '\'' || c == '`'
                    || c == '"') { // a quoted literal or identifier, '' doubled inside
                int end = script.indexOf(c, i + 1);
                while (end > 0 && end + 1 < script.length() && script.charAt(end + 1) == c) {
                    end = script.indexOf(c, end + 2);
                }
                if (end < 0) {
                    throw new IllegalArgumentException(
                            "Unclosed " + c + " in the statement starting: " + start(current));
                }
                current.append(script, i, end + 1);
                i = end + 1;
            } else if (script.startsWith("--", i)) {
                int end = script.indexOf('\n', i);
                i = end < 0 ? script.length() : end;
            } else if (script.startsWith("/*", i)) {
                int end = script.indexOf("*/", i + 2);
                if (end < 0) {
                    throw new IllegalArgumentException(
                            "Unclosed /* comment in the statement starting: " + start(current));
                }
                current.append(' ');
                i = end + 2;
            } else if (c == ';' && !insideStatementSet(current)) {
                add(statements, current, variables);
                i++;
            } else {
                current.append(c);
                i++;
            }
        }
        add(statements, current, variables);
        return statements;
    }

    /** Inside {@code EXECUTE STATEMENT SET BEGIN ... END}, whose INSERTs end with {@code ;} too. */
    private static boolean insideStatementSet(StringBuilder statement) {
        String text = statement.toString().trim().toUpperCase(Locale.ROOT).replaceAll("\\s+", " ");
        return (text.startsWith("EXECUTE STATEMENT SET") || text.startsWith("BEGIN STATEMENT SET"))
                && !text.endsWith(" END");
    }

    private static void add(
            List<String> statements, StringBuilder current, Map<String, String> variables) {
        String statement = current.toString().trim();
        current.setLength(0);
        if (!statement.isEmpty()) {
            statements.add(substitute(statement, variables));
        }
    }

    private static String substitute(String statement, Map<String, String> variables) {
        Matcher matcher = VARIABLE.matcher(statement);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String value = variables.get(matcher.group(1));
            if (value == null) {
                throw new IllegalArgumentException(
                        "The script uses ${"
                                + matcher.group(1)
                                + "}, which is not"
                                + " defined; pass --var "
                                + matcher.group(1)
                                + "=VALUE (defined: "
                                + variables.keySet()
                                + ").");
            }
            matcher.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    private static String start(CharSequence statement) {
        String text = statement.toString().trim();
        return text.length() > 60 ? text.substring(0, 60) + " ..." : text;
    }

    /** The statement's first words, for progress lines. */
    static String summary(String statement) {
        return start(statement.replaceAll("\\s+", " "));
    }
}
