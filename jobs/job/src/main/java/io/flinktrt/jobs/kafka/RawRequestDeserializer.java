package io.flinktrt.jobs.kafka;

import io.flinktrt.operator.RequestRecord;
import io.flinktrt.operator.RequestRecordTypeInfo;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Passes each record's value on as bytes, with its topic, partition and offset for the dead-letter
 * record. Decoding happens in the inference operator, so that a record that does not decode becomes
 * a dead-letter record instead of failing the source.
 */
@Internal
public final class RawRequestDeserializer
        implements KafkaRecordDeserializationSchema<RequestRecord> {

    private static final byte[] EMPTY = new byte[0];

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
}
