package io.flinktrt.jobs.kafka;

import io.flinktrt.operator.RequestRecord;
import io.flinktrt.operator.RequestRecordTypeInfo;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.network.Selector;

import java.io.IOException;
import java.io.ObjectInputStream;

/**
 * Passes each record's value on as bytes, with its topic, partition and offset for the dead-letter
 * record. Decoding happens in the inference operator, so that a record that does not decode becomes
 * a dead-letter record instead of failing the source.
 */
@Internal
public final class RawRequestDeserializer
        implements KafkaRecordDeserializationSchema<RequestRecord> {

    private static final byte[] EMPTY = new byte[0];

    /**
     * Classes that a Kafka client loads only when it closes a connection: {@code Selector}'s enum
     * of close modes (the only one, by {@code -Xlog:class+load} around an Admin client's close).
     */
    private static final String CLOSE_ONLY_CLASS = Selector.class.getName() + "$CloseMode";

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RequestRecord> out) {
        byte[] value =
                record.value() == null
                        ? EMPTY
                        : record.value(); // a tombstone is an undecodable request
        out.collect(new RequestRecord(value, record.topic(), record.partition(), record.offset()));
    }

    @Override
    public TypeInformation<RequestRecord> getProducedType() {
        return RequestRecordTypeInfo.INSTANCE;
    }

    /**
     * On the JobManager this deserializer is read with the job's Kafka source, in the job's class
     * loader, whose Kafka client classes come from the job jar. Flink 2.2.1 closes a source's
     * coordinator asynchronously, so a cancelled job's enumerator closes its Admin client after
     * that class loader was released, and the client's first load of {@link #CLOSE_ONLY_CLASS} then
     * fails ({@code NoClassDefFoundError}, connections left open): it is loaded here, while the
     * loader is open.
     */
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        Class.forName(CLOSE_ONLY_CLASS, true, Selector.class.getClassLoader());
    }
}
