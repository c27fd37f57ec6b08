package io.flinktrt.jobs.cli;

import io.flinktrt.testing.TestModels;

import org.apache.flink.streaming.api.datastream.AsyncDataStream.OutputMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.lang.reflect.Field;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The job the {@code run} command's flags build: what reaches Flink's async operator. */
class JobFactoryTest {

    @Test
    void orderedCapacityAndTimeoutFlagsReachTheAsyncOperator() throws Exception {
        StreamNode inference =
                inferenceNode("--ordered", "--capacity", "77", "--timeout-ms", "1234");
        assertThat(field(inference, "outputMode")).isEqualTo(OutputMode.ORDERED);
        assertThat(field(inference, "capacity")).isEqualTo(77);
        assertThat(field(inference, "timeout")).isEqualTo(1234L);
    }

    @Test
    void withoutOrderedResultsLeaveAsTheyAreReady() throws Exception {
        assertThat(field(inferenceNode(), "outputMode")).isEqualTo(OutputMode.UNORDERED);
    }

    @Test
    void setPassesInferenceOptionsToo() throws Exception {
        StreamNode inference =
                inferenceNode("--set", "inference.ordered=true", "--set", "inference.capacity=5");
        assertThat(field(inference, "outputMode")).isEqualTo(OutputMode.ORDERED);
        assertThat(field(inference, "capacity")).isEqualTo(5);
    }

    private static StreamNode inferenceNode(String... flags) throws Exception {
        RunCommand run = new RunCommand();
        String[] args = new String[flags.length + 4];
        args[0] = "--bootstrap-servers";
        args[1] = "nowhere:9092";
        args[2] = "--model";
        args[3] = TestModels.path(TestModels.MLP).toString();
        System.arraycopy(flags, 0, args, 4, flags.length);
        new CommandLine(run).parseArgs(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobFactory.create(
                        run.inference,
                        run.kafka,
                        run.delivery,
                        "nowhere:9092",
                        new Properties(),
                        true)
                .addTo(env);
        return env.getStreamGraph().getStreamNodes().stream()
                .filter(node -> node.getOperatorName().equals("inference"))
                .findFirst()
                .orElseThrow();
    }

    /** Flink keeps the async operator's settings in private fields of its factory. */
    private static Object field(StreamNode node, String name) throws ReflectiveOperationException {
        Field field = AsyncWaitOperatorFactory.class.getDeclaredField(name);
        field.setAccessible(true);
        return field.get(node.getOperatorFactory());
    }
}
