package dev.flinksandbox.hello;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.testutils.logging.LoggerAuditingExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs HelloJob's own pipeline on Flink's MiniCluster, stops it twice and restores it twice:
 * from a retained checkpoint after a cancel, and from a stop-with-savepoint. Everything is judged
 * from the record lines the job logs, the way the sandbox's verifier judges a real cluster:
 * nothing is lost, and each restore starts right after the number the snapshot holds, replaying
 * only what was logged after the snapshot.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class HelloJobRestoreTest {

    /** The logger's parallelism, as in the manifests; the source always runs at 1. */
    private static final int PARALLELISM = 2;

    /** Fast enough to make the test short, slow enough that the stops land mid-sequence. */
    private static final double RATE = 200;

    /** How many records each run must log past the point that matters to it. */
    private static final long PROGRESS = 30;

    private static final Duration WAIT = Duration.ofSeconds(60);

    @RegisterExtension
    static final MiniClusterExtension CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(PARALLELISM)
                            .build());

    /** Captures every line HelloJob's logger writes, in memory, across all three runs. */
    @RegisterExtension
    final LoggerAuditingExtension jobLog = new LoggerAuditingExtension(HelloJob.class, Level.INFO);

    @TempDir Path dir;

    @Test
    void sequenceContinuesAfterRestoreFromCheckpointAndFromSavepoint(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        // Run 1: a checkpoint is taken mid-sequence, more records follow, then the job is
        // cancelled; the checkpoint is retained (RETAIN_ON_CANCELLATION).
        JobID first = start(null);
        awaitRecord(PROGRESS);
        String checkpoint = cluster.triggerCheckpoint(first).get();
        long atCheckpoint = SourcePosition.lastEmitted(checkpoint);
        awaitRecord(atCheckpoint + PROGRESS);
        cluster.cancelJob(first).get();
        awaitStatus(cluster, first, JobStatus.CANCELED);
        List<SeqRecord> run1 = records(0);

        // Run 2: restored from that checkpoint, runs past run 1's highest number, then stops
        // with a savepoint (no drain), which lets no record through after the savepoint.
        long highest1 = max(run1);
        JobID second = start(checkpoint);
        awaitRecord(highest1 + PROGRESS);
        String savepoint =
                cluster.stopWithSavepoint(
                                second,
                                dir.resolve("savepoints").toUri().toString(),
                                false,
                                SavepointFormatType.CANONICAL)
                        .get();
        awaitStatus(cluster, second, JobStatus.FINISHED);
        long atSavepoint = SourcePosition.lastEmitted(savepoint);
        List<SeqRecord> run2 = records(run1.size());

        // Run 3: restored from the savepoint.
        JobID third = start(savepoint);
        awaitRecord(atSavepoint + PROGRESS);
        cluster.cancelJob(third).get();
        awaitStatus(cluster, third, JobStatus.CANCELED);
        List<SeqRecord> run3 = records(run1.size() + run2.size());

        // One line for the build log, so a reader sees what the restores actually covered.
        System.out.printf(
                "restore test: checkpoint at %d, run 1 logged up to %d (%d replayed after the"
                        + " checkpoint restore); savepoint at %d; run 3 logged %d..%d%n",
                atCheckpoint,
                highest1,
                seqs(run1).stream().filter(seq -> seq > atCheckpoint).count(),
                atSavepoint,
                min(run3),
                max(run3));

        // Run 1 logged every number up to its checkpoint and then some, each once.
        assertThat(seqs(run1)).doesNotHaveDuplicates();
        assertThat(seqs(run1)).containsAll(range(1, atCheckpoint + PROGRESS));
        assertThat(highest1).isGreaterThan(atCheckpoint);

        // Run 2 starts right after the checkpoint: it replays exactly run 1's records logged
        // after the checkpoint, nothing before it, and continues without a gap to the savepoint.
        assertThat(min(run2)).as("first number after the checkpoint restore").isEqualTo(atCheckpoint + 1);
        assertThat(seqs(run2)).doesNotHaveDuplicates();
        assertThat(seqs(run2)).containsExactlyInAnyOrderElementsOf(range(atCheckpoint + 1, atSavepoint));
        Set<Long> replayed =
                seqs(run2).stream().filter(seqs(run1)::contains).collect(Collectors.toSet());
        assertThat(replayed)
                .as("records replayed after the checkpoint restore")
                .containsExactlyInAnyOrderElementsOf(
                        seqs(run1).stream().filter(seq -> seq > atCheckpoint).toList());
        assertThat(atSavepoint).isGreaterThanOrEqualTo(highest1 + PROGRESS);

        // Run 3 starts right after the savepoint: no replay at all, no gap.
        assertThat(min(run3)).as("first number after the savepoint restore").isEqualTo(atSavepoint + 1);
        assertThat(seqs(run3)).doesNotHaveDuplicates();
        assertThat(seqs(run3)).containsAll(range(atSavepoint + 1, atSavepoint + PROGRESS));

        // Every line names a subtask of the logger, both subtasks took part, and no task was
        // restarted within a run (attempt 0): the restores were new jobs, not failovers.
        List<SeqRecord> all = records(0);
        assertThat(all).extracting(SeqRecord::subtask).containsOnly(0, 1);
        assertThat(all).extracting(SeqRecord::attempt).containsOnly(0);
    }

    /** Submits HelloJob's pipeline, restored from {@code restoreFrom} when it is not null. */
    private JobID start(String restoreFrom) throws Exception {
        Configuration conf = new Configuration();
        // Periodic checkpoints are effectively off: the test triggers the checkpoint it restores
        // from, so it knows which records came after it. One year keeps Flink's random initial
        // delay of the first periodic checkpoint out of the test's way.
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofDays(365));
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.resolve("checkpoints").toUri().toString());
        if (restoreFrom != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(PARALLELISM);
        HelloJob.addPipeline(env, RATE);
        return env.executeAsync(HelloJob.JOB_NAME).getJobID();
    }

    /** The records logged so far, from the {@code skip}-th line on (earlier runs' lines). */
    private List<SeqRecord> records(int skip) {
        List<String> messages = jobLog.getMessages();
        return SeqRecord.parseAll(messages.subList(skip, messages.size()));
    }

    /** Waits until some record numbered {@code atLeast} or higher has been logged. */
    private void awaitRecord(long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (highestSoFar() < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "no record >= " + atLeast + " within " + WAIT + "; highest: " + highest);
            }
            Thread.sleep(20);
        }
    }

    private int scanned;
    private long highest;

    /** The highest number logged so far, parsing only the lines not seen by the last call. */
    private long highestSoFar() {
        List<String> messages = jobLog.getMessages();
        for (SeqRecord r : SeqRecord.parseAll(messages.subList(scanned, messages.size()))) {
            highest = Math.max(highest, r.seq());
        }
        scanned = messages.size();
        return highest;
    }

    private static void awaitStatus(MiniCluster cluster, JobID job, JobStatus expected) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JobStatus status;
        while ((status = cluster.getJobStatus(job).get()) != expected) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("job " + job + " is " + status + ", not " + expected);
            }
            Thread.sleep(20);
        }
    }

    private static List<Long> seqs(List<SeqRecord> records) {
        return records.stream().map(SeqRecord::seq).toList();
    }

    private static List<Long> range(long fromInclusive, long toInclusive) {
        return LongStream.rangeClosed(fromInclusive, toInclusive).boxed().toList();
    }

    private static long max(List<SeqRecord> records) {
        return records.stream().mapToLong(SeqRecord::seq).max().orElse(0);
    }

    private static long min(List<SeqRecord> records) {
        return records.stream().mapToLong(SeqRecord::seq).min().orElse(0);
    }
}
