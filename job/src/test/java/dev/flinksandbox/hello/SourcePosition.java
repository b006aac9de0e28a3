package dev.flinksandbox.hello;

import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource.NumberSequenceSplit;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.io.SimpleVersionedSerialization;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.state.CompletedCheckpointStorageLocation;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.runtime.state.filesystem.AbstractFsCheckpointStorageAccess;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads, from a completed checkpoint or savepoint, how far the sequence source had got: the
 * last sequence number it emitted before the snapshot. A correct restore logs exactly the numbers
 * after it, so the test compares the restored run's first record with this number instead of
 * trusting the restore to judge itself.
 */
final class SourcePosition {

    /** The list state in which Flink's SourceOperator keeps its reader's splits. */
    private static final String SPLITS_STATE = "SourceReaderState";

    private SourcePosition() {}

    static long lastEmitted(String pointer) throws IOException {
        CheckpointMetadata metadata = load(pointer);
        SimpleVersionedSerializer<NumberSequenceSplit> serializer =
                new NumberSequenceSource(0, 0).getSplitSerializer();
        List<NumberSequenceSplit> splits = new ArrayList<>();
        for (OperatorState operator : metadata.getOperatorStates()) {
            for (OperatorSubtaskState subtask : operator.getStates()) {
                for (OperatorStateHandle handle : subtask.getManagedOperatorState()) {
                    OperatorStateHandle.StateMetaInfo info =
                            handle.getStateNameToPartitionOffsets().get(SPLITS_STATE);
                    if (info != null) {
                        splits.addAll(readSplits(handle, info, serializer));
                    }
                }
            }
        }
        if (splits.size() != 1) {
            throw new AssertionError(
                    "expected the one split of the sequence source in " + pointer + ", found " + splits);
        }
        // The split holds the next generator index to emit; HelloJob emits index + 1, so the
        // last number emitted before the snapshot equals that index.
        return splits.get(0).from();
    }

    private static CheckpointMetadata load(String pointer) throws IOException {
        CompletedCheckpointStorageLocation location =
                AbstractFsCheckpointStorageAccess.resolveCheckpointPointer(pointer);
        try (InputStream in = location.getMetadataHandle().openInputStream()) {
            return Checkpoints.loadCheckpointMetadata(
                    new DataInputStream(in), SourcePosition.class.getClassLoader(), pointer);
        }
    }

    private static List<NumberSequenceSplit> readSplits(
            OperatorStateHandle handle,
            OperatorStateHandle.StateMetaInfo info,
            SimpleVersionedSerializer<NumberSequenceSplit> serializer)
            throws IOException {
        List<NumberSequenceSplit> splits = new ArrayList<>();
        try (FSDataInputStream in = handle.openInputStream()) {
            DataInputViewStreamWrapper view = new DataInputViewStreamWrapper(in);
            // Each list element sits at its own offset: the split, serialized with a version
            // prefix, wrapped as a byte array.
            for (long offset : info.getOffsets()) {
                in.seek(offset);
                byte[] bytes = BytePrimitiveArraySerializer.INSTANCE.deserialize(view);
                splits.add(SimpleVersionedSerialization.readVersionAndDeSerialize(serializer, bytes));
            }
        }
        return splits;
    }
}
