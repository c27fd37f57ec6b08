package io.flinktrt.operator;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * The type of the requests the inference operator takes: {@link RequestRecord}s, which nothing
 * changes once made. Declaring them immutable lets Flink hand them between chained operators
 * without copying: for a 600 KB image that copy cost more than the GPU's share of the work.
 */
@PublicEvolving
public final class RequestRecordTypeInfo extends TypeInformation<RequestRecord> {

    private static final long serialVersionUID = 1L;
    public static final RequestRecordTypeInfo INSTANCE = new RequestRecordTypeInfo();

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<RequestRecord> getTypeClass() {
        return RequestRecord.class;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<RequestRecord> createSerializer(SerializerConfig config) {
        return Serializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "RequestBytes";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RequestRecordTypeInfo;
    }

    @Override
    public int hashCode() {
        return RequestRecordTypeInfo.class.hashCode();
    }

    @Override
    public boolean canEqual(Object o) {
        return o instanceof RequestRecordTypeInfo;
    }

    /** Copying returns the same record because no one writes to it. */
    public static final class Serializer extends TypeSerializerSingleton<RequestRecord> {

        private static final long serialVersionUID = 1L;
        public static final Serializer INSTANCE = new Serializer();
        private static final RequestRecord EMPTY = RequestRecord.of(new byte[0]);

        @Override
        public boolean isImmutableType() {
            return true;
        }

        @Override
        public RequestRecord createInstance() {
            return EMPTY;
        }

        @Override
        public RequestRecord copy(RequestRecord from) {
            return from;
        }

        @Override
        public RequestRecord copy(RequestRecord from, RequestRecord reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return -1;
        }

        /** The payload, length first; then whether a position follows, and the position. */
        @Override
        public void serialize(RequestRecord record, DataOutputView target) throws IOException {
            target.writeInt(record.payload().length);
            target.write(record.payload());
            target.writeBoolean(record.topic() != null);
            if (record.topic() != null) {
                target.writeUTF(record.topic());
                target.writeInt(record.partition());
                target.writeLong(record.offset());
            }
        }

        @Override
        public RequestRecord deserialize(DataInputView source) throws IOException {
            byte[] payload = new byte[source.readInt()];
            source.readFully(payload);
            return source.readBoolean()
                    ? new RequestRecord(
                            payload, source.readUTF(), source.readInt(), source.readLong())
                    : RequestRecord.of(payload);
        }

        @Override
        public RequestRecord deserialize(RequestRecord reuse, DataInputView source)
                throws IOException {
            return deserialize(source);
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            serialize(deserialize(source), target);
        }

        @Override
        public TypeSerializerSnapshot<RequestRecord> snapshotConfiguration() {
            return new Snapshot();
        }

        /** Restores the serializer from savepoints. */
        public static final class Snapshot extends SimpleTypeSerializerSnapshot<RequestRecord> {
            public Snapshot() {
                super(() -> INSTANCE);
            }
        }
    }
}
