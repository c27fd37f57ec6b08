package io.flinktrt.sql;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.DescribedEnum;
import org.apache.flink.configuration.description.InlineElement;

import static org.apache.flink.configuration.description.TextElement.text;

/** What a bad row does, in the spirit of Flink's OpenAI provider's option of the same name. */
@PublicEvolving
public enum ErrorHandlingStrategy implements DescribedEnum {
    EMIT("Emit the row with null outputs and the reason in the error column; the job goes on."),
    FAILOVER(
            "Fail the job; Flink restarts it from the last checkpoint, where the same row fails again.");

    private final String description;

    ErrorHandlingStrategy(String description) {
        this.description = description;
    }

    @Override
    public InlineElement getDescription() {
        return text(description);
    }
}
