package io.flinktrt.sql;

import io.flinktrt.backend.Backends;
import io.flinktrt.backend.InferenceBackend;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.backend.tensorrt.plan.BatchBuckets;
import io.flinktrt.repository.ModelRepository;
import io.flinktrt.repository.ModelVersion;
import io.flinktrt.repository.ServingPolicy;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.api.config.ExecutionConfigOptions;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.ml.ModelProvider;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code CREATE MODEL ... WITH ('provider' = '<backend>', 'model' = '...')}: a model run in the
 * task manager, rows batched like the DataStream operator's requests. Everything about the model's
 * columns and options is checked here, when a statement using the model is planned.
 */
abstract class InferenceModelProviderFactory implements ModelProviderFactory {

    private final String backend;

    InferenceModelProviderFactory(String backend) {
        this.backend = backend;
    }

    @Override
    public String factoryIdentifier() {
        return backend;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(ModelProviderOptions.MODEL);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        Set<ConfigOption<?>> options = new HashSet<>(TextBinding.TEXT_OPTIONS);
        options.addAll(
                List.of(
                        ModelProviderOptions.MAX_BATCH,
                        ModelProviderOptions.SEQUENCE_LENGTHS,
                        ModelProviderOptions.MAX_DELAY,
                        ModelProviderOptions.BUFFERS,
                        ModelProviderOptions.DEVICE,
                        ModelProviderOptions.GPU_RESOURCE,
                        ModelProviderOptions.ROW_TIMEOUT,
                        ModelProviderOptions.REJECT_NON_FINITE,
                        ModelProviderOptions.ERROR_HANDLING_STRATEGY,
                        ModelProviderOptions.ERROR_COLUMN,
                        ModelProviderOptions.MODEL_REPOSITORY,
                        ModelProviderOptions.MODEL_VERSION,
                        ModelProviderOptions.IMAGE,
                        ModelProviderOptions.IMAGE_MEAN,
                        ModelProviderOptions.IMAGE_STD,
                        ModelProviderOptions.MAX_IMAGE_PIXELS));
        return options;
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        FactoryUtil.ModelProviderFactoryHelper helper =
                FactoryUtil.createModelProviderFactoryHelper(this, context);
        helper.validateExcept(Backends.settingPrefixes().toArray(String[]::new));
        ReadableConfig options = helper.getOptions();
        PredictSettings settings = settings(options, context.getCatalogModel());
        sanityCheck(settings);
        ModelSignature signature =
                PlannedSignature.read(
                        settings.backend(), planningFile(settings), settings.sequenceLengths());
        ResolvedSchema input = context.getCatalogModel().getResolvedInputSchema();
        ResolvedSchema output = context.getCatalogModel().getResolvedOutputSchema();
        String errorColumn = options.get(ModelProviderOptions.ERROR_COLUMN);
        PredictCodec<?> codec;
        if (options.get(ModelProviderOptions.IMAGE)) {
            codec =
                    new RowImageCodec(
                            ImageBinding.of(
                                    input,
                                    output,
                                    signature,
                                    options,
                                    errorColumn,
                                    settings.errorHandling()));
        } else if (TextBinding.isText(input, options)) {
            codec =
                    new RowTextCodec(
                            TextBinding.of(
                                    input,
                                    output,
                                    signature,
                                    options,
                                    errorColumn,
                                    settings.errorHandling()));
        } else {
            TextBinding.refuseTextOptions(options);
            codec =
                    new RowTensorCodec(
                            ModelBinding.of(
                                    input,
                                    output,
                                    signature,
                                    errorColumn,
                                    settings.errorHandling()),
                            options.get(ModelProviderOptions.REJECT_NON_FINITE));
        }
        ReadableConfig session = context.getConfiguration();
        return new InferenceModelProvider(
                context.getObjectIdentifier().asSummaryString(),
                settings,
                codec,
                session.get(ExecutionConfigOptions.TABLE_EXEC_ASYNC_ML_PREDICT_TIMEOUT),
                session.get(
                        ExecutionConfigOptions
                                .TABLE_EXEC_ASYNC_ML_PREDICT_MAX_CONCURRENT_OPERATIONS));
    }

    private PredictSettings settings(ReadableConfig options, ResolvedCatalogModel model) {
        Map<String, String> backendOptions = Backends.backendSettings(model.getOptions());
        return new PredictSettings(
                backend,
                options.get(ModelProviderOptions.MODEL),
                options.getOptional(ModelProviderOptions.MODEL_REPOSITORY).orElse(null),
                parsed(
                        ModelProviderOptions.MODEL_VERSION,
                        options.get(ModelProviderOptions.MODEL_VERSION),
                        ServingPolicy::ofVersion),
                options.get(ModelProviderOptions.DEVICE),
                options.get(ModelProviderOptions.GPU_RESOURCE),
                options.get(ModelProviderOptions.MAX_BATCH),
                options.getOptional(ModelProviderOptions.SEQUENCE_LENGTHS)
                        .map(
                                text ->
                                        parsed(
                                                ModelProviderOptions.SEQUENCE_LENGTHS,
                                                text,
                                                BatchBuckets::parseLengths))
                        .orElse(List.of()),
                options.get(ModelProviderOptions.MAX_DELAY),
                options.get(ModelProviderOptions.BUFFERS),
                options.get(ModelProviderOptions.ROW_TIMEOUT),
                options.get(ModelProviderOptions.ERROR_HANDLING_STRATEGY),
                Map.copyOf(backendOptions));
    }

    /** The value of {@code option} parsed; a bad one fails the statement, naming the option. */
    private static <T> T parsed(
            ConfigOption<String> option, String text, Function<String, T> parse) {
        try {
            return parse.apply(text);
        } catch (IllegalArgumentException e) {
            throw new ValidationException("'" + option.key() + "': " + e.getMessage(), e);
        }
    }

    /**
     * The file the statement is planned with: 'model', or the repository version the policy picks.
     */
    private static Path planningFile(PredictSettings settings) {
        if (settings.modelRepository() == null) {
            return Path.of(settings.model());
        }
        try {
            ModelVersion version =
                    new ModelRepository(Path.of(settings.modelRepository()))
                            .resolve(settings.model(), settings.servingPolicy())
                            .primary();
            return version.files(settings.backend()).get(0);
        } catch (IOException e) {
            throw new ValidationException("Model " + settings.model() + ": " + e.getMessage(), e);
        }
    }

    private static void sanityCheck(PredictSettings settings) {
        check(
                settings.maxBatch() >= 0,
                "'%s' must be 0 (the model's limit) or positive, not %d.",
                ModelProviderOptions.MAX_BATCH.key(),
                settings.maxBatch());
        check(
                !settings.maxDelay().isNegative(),
                "'%s' must not be negative.",
                ModelProviderOptions.MAX_DELAY.key());
        check(
                settings.buffers() >= 1,
                "'%s' must be at least 1.",
                ModelProviderOptions.BUFFERS.key());
        check(
                settings.rowTimeout().compareTo(settings.maxDelay()) > 0,
                "'%s' (%s) must be longer than '%s' (%s), or every row that waits for a batch times out.",
                ModelProviderOptions.ROW_TIMEOUT.key(),
                settings.rowTimeout(),
                ModelProviderOptions.MAX_DELAY.key(),
                settings.maxDelay());
        Path model = planningFile(settings);
        if (!Backends.AUTO.equals(settings.backend())) {
            InferenceBackend backend =
                    Backends.all().stream()
                            .filter(b -> b.name().equals(settings.backend()))
                            .findFirst()
                            .orElseThrow(
                                    () ->
                                            new ValidationException(
                                                    "Backend "
                                                            + settings.backend()
                                                            + " is not on the classpath; the job jar must contain flink-tensorrt's operator."));
            check(
                    backend.accepts(model),
                    "Provider '%s' cannot open %s; providers that can: %s.",
                    settings.backend(),
                    model.getFileName(),
                    Backends.all().stream()
                            .filter(b -> b.accepts(model))
                            .map(b -> "'" + b.name() + "'")
                            .collect(Collectors.joining(", ", "", ", 'auto'")));
        }
    }

    private static void check(boolean condition, String format, Object... args) {
        if (!condition) {
            throw new ValidationException(String.format(format, args));
        }
    }

    /**
     * {@code 'provider' = 'tensorrt'}: TensorRT on the GPU (a plan, or an ONNX file built on first
     * use).
     */
    public static final class TensorRt extends InferenceModelProviderFactory {
        public TensorRt() {
            super("tensorrt");
        }
    }

    /** {@code 'provider' = 'onnxruntime'}: ONNX Runtime on the CPU. */
    public static final class OnnxRuntime extends InferenceModelProviderFactory {
        public OnnxRuntime() {
            super("onnxruntime");
        }
    }

    /**
     * {@code 'provider' = 'auto'}: TensorRT where a GPU and its libraries load, else ONNX Runtime.
     */
    public static final class Auto extends InferenceModelProviderFactory {
        public Auto() {
            super(Backends.AUTO);
        }
    }
}
