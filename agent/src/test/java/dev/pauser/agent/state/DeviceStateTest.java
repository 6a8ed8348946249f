package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.TrainState;
import dev.pauser.agent.device.DeviceException;
import dev.pauser.agent.device.DeviceMemories;
import dev.pauser.agent.device.DeviceMemory;
import dev.pauser.agent.device.DeviceMemoryProvider;
import dev.pauser.agent.device.DeviceStaging;
import dev.pauser.agent.device.HostDeviceMemory;
import dev.pauser.agent.store.CheckpointReader;
import dev.pauser.agent.store.CheckpointStore;
import dev.pauser.agent.store.DType;
import dev.pauser.agent.store.Entry;
import dev.pauser.agent.store.LoadedCheckpoint;
import dev.pauser.agent.store.TensorEntry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU fields ({@code CUdeviceptr}, {@code Pointer}, arrays of them) captured, written, read back and restored through the
 * real store, against {@link HostDeviceMemory}: the two staging paths, the field checks, the context discipline.
 */
class DeviceStateTest {
    static final int FLOATS = 64;

    @TempDir
    Path tmp;

    final HostDeviceMemory device = new HostDeviceMemory();
    final DeviceMemoryProvider provider = loader -> device;

    /** A trainer whose weights live on the "GPU". */
    static final class GpuTrainer {
        @TrainState(dtype = "F32", shape = {4, 16})
        CUdeviceptr w = new CUdeviceptr();

        @TrainState
        Pointer raw = new Pointer();

        @TrainState(dtype = "I32")
        CUdeviceptr[] moments = {new CUdeviceptr(), new CUdeviceptr()};

        @TrainState(required = false)
        CUdeviceptr unused;
    }

    /** The same weights as a Java array, for comparing the bytes on disk. */
    static final class ArrayTrainer {
        @TrainState
        float[][] w = new float[4][16];
    }

    GpuTrainer gpuTrainer(float seed) {
        GpuTrainer t = new GpuTrainer();
        device.setAddress(t.w, device.appAllocate(HostDeviceMemory.CONTEXT, FLOATS * 4, (byte) 0));
        device.appWrite(device.address(t.w), floats(seed));
        device.setAddress(t.raw, device.appAllocate(HostDeviceMemory.CONTEXT, 100, (byte) 7));
        for (CUdeviceptr m : t.moments) {
            device.setAddress(m, device.appAllocate(HostDeviceMemory.CONTEXT, 32, (byte) 3));
        }
        return t;
    }

    static byte[] floats(float seed) {
        ByteBuffer b = ByteBuffer.allocate(FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < FLOATS; i++) {
            b.putFloat(seed + i * 0.5f);
        }
        return b.array();
    }

    StateCapture capture(StateSchema schema, long margin) {
        return new StateCapture(schema, m -> new DeviceStaging(m, margin, 48));
    }

    /** Commits the entries, then loads them back from disk. */
    LoadedCheckpoint writeAndRead(Path root, List<Entry> entries) throws Exception {
        try (CheckpointStore store = CheckpointStore.open(root)) {
            CheckpointStore.CommitResult r = store.commit(7, Map.of(), entries);
            assertTrue(CheckpointReader.verify(r.dir()).ok(), CheckpointReader.verify(r.dir()).toString());
            return CheckpointReader.load(r.dir());
        }
    }

    @Test
    void hostStagingRoundTripsIntoTheSameObjectsAndAddresses() throws Exception {
        roundTrip(Long.MAX_VALUE / 4, DeviceStaging.Path.HOST);
    }

    @Test
    void deviceStagingRoundTripsIntoTheSameObjectsAndAddresses() throws Exception {
        roundTrip(0, DeviceStaging.Path.DEVICE);
    }

    private void roundTrip(long margin, DeviceStaging.Path expectedPath) throws Exception {
        GpuTrainer t = gpuTrainer(1.5f);
        StateSchema schema = StateSchema.of(GpuTrainer.class, provider);
        StateCapture capture = capture(schema, margin);
        List<Entry> entries = capture.capture(t);
        assertEquals(expectedPath, capture.deviceReport().path());
        assertEquals(FLOATS * 4 + 100 + 64, capture.deviceReport().bytes());
        TensorEntry w = (TensorEntry) entries.stream().filter(e -> e.key().equals("w")).findFirst().orElseThrow();
        assertEquals(expectedPath == DeviceStaging.Path.DEVICE, w.streamed());
        assertEquals(DType.F32, w.dtype());
        assertArrayEquals(new long[] {4, 16}, w.shape());

        LoadedCheckpoint loaded = writeAndRead(tmp.resolve("gpu"), entries);
        TensorEntry moments = (TensorEntry) loaded.byKey().get("moments");
        assertEquals(DType.I32, moments.dtype());
        assertArrayEquals(new long[] {2, 8}, moments.shape());
        assertEquals("null", ((dev.pauser.agent.store.JsonEntry) loaded.byKey().get("unused")).json());

        // training goes on: the device memory changes; the restore puts the checkpoint's bytes back in place
        long wAddress = device.address(t.w);
        CUdeviceptr wObject = t.w;
        CUdeviceptr[] momentObjects = t.moments;
        device.appWrite(wAddress, floats(99f));
        device.appWrite(device.address(t.moments[1]), new byte[32]);
        List<String> mismatches = new StateRestore(schema).restore(t, loaded.entries(), StateRestore.OnMismatch.FAIL);
        assertEquals(List.of(), mismatches);
        assertSame(wObject, t.w);
        assertSame(momentObjects, t.moments);
        assertEquals(wAddress, device.address(t.w));
        assertArrayEquals(floats(1.5f), device.appRead(wAddress, FLOATS * 4));
        assertArrayEquals(filled(32, 3), device.appRead(device.address(t.moments[1]), 32));
        assertArrayEquals(filled(100, 7), device.appRead(device.address(t.raw), 100));
        assertEquals(0, device.depth(Thread.currentThread()), "no context left current");
    }

    static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    @Test
    void bytesOnDiskAreThoseAnArrayFieldWritesOnBothPaths() throws Exception {
        ArrayTrainer a = new ArrayTrainer();
        ByteBuffer src = ByteBuffer.wrap(floats(2.25f)).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] row : a.w) {
            src.asFloatBuffer().get(row);
            src.position(src.position() + row.length * 4);
        }
        List<Entry> arrayEntries = new StateCapture(StateSchema.of(ArrayTrainer.class)).capture(a);
        Path arrayDir = tmp.resolve("array");
        LoadedCheckpoint arrayCkpt = writeAndRead(arrayDir, arrayEntries);

        for (long margin : new long[] {0, Long.MAX_VALUE / 4}) {
            GpuTrainer g = gpuTrainer(2.25f);
            StateSchema schema = StateSchema.of(GpuTrainer.class, provider);
            List<Entry> only = capture(schema, margin).capture(g).stream().filter(e -> e.key().equals("w")).toList();
            Path gpuDir = tmp.resolve("gpu-" + margin);
            LoadedCheckpoint gpuCkpt = writeAndRead(gpuDir, only);
            assertArrayEquals(Files.readAllBytes(arrayCkpt.dir().resolve("state.safetensors")),
                    Files.readAllBytes(gpuCkpt.dir().resolve("state.safetensors")), "margin " + margin);
            assertEquals(arrayCkpt.manifest().fields().get(0).crc32c(), gpuCkpt.manifest().fields().get(0).crc32c());
        }
    }

    @Test
    void captureWaitsForQueuedKernelsAndLeavesNoContextCurrent() throws Exception {
        for (long margin : new long[] {0, Long.MAX_VALUE / 4}) {
            GpuTrainer t = gpuTrainer(0f);
            device.queueWrite(device.address(t.w), floats(42f)); // the step's last kernel, still running
            StateSchema schema = StateSchema.of(GpuTrainer.class, provider);
            List<Entry> entries = capture(schema, margin).capture(t);
            LoadedCheckpoint loaded = writeAndRead(tmp.resolve("sync-" + margin), entries);
            ByteBuffer w = ((TensorEntry) loaded.byKey().get("w")).data();
            byte[] got = new byte[w.remaining()];
            w.duplicate().get(got);
            assertArrayEquals(floats(42f), got, "the copy saw the kernel's result, margin " + margin);
            List<String> events = device.events();
            int sync = events.indexOf("sync");
            int firstCopy = firstIndex(events, "d2");
            assertTrue(sync >= 0 && sync < firstCopy, events.toString());
            assertEquals(0, device.depth(Thread.currentThread()));
        }
    }

    static int firstIndex(List<String> events, String prefix) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void stagingPathFollowsFreeDeviceMemoryAndItsMargin() throws Exception {
        GpuTrainer t = gpuTrainer(0f);
        StateSchema schema = StateSchema.of(GpuTrainer.class, provider);
        long allocated = device.allocatedBytes();
        long state = FLOATS * 4 + 100 + 64;
        long margin = 1000;

        device.capacity(allocated + margin + 63); // one byte short of the smallest field's shadow plus the margin
        StateCapture tight = capture(schema, margin);
        tight.capture(t);
        assertEquals(DeviceStaging.Path.HOST, tight.deviceReport().path());
        assertEquals(allocated, device.allocatedBytes(), "no shadow taken");

        device.capacity(allocated + margin + FLOATS * 4); // room for the first field's shadow only: chosen per field
        StateCapture some = capture(schema, margin);
        some.capture(t);
        assertEquals(DeviceStaging.Path.HOST, some.deviceReport().path(), "host as soon as one field went to host");
        assertEquals(allocated + FLOATS * 4, device.allocatedBytes());
        some.deviceStaging().freeShadows();

        device.capacity(allocated + state + margin + 4096);
        StateCapture roomy = capture(schema, margin);
        roomy.capture(t);
        assertEquals(DeviceStaging.Path.DEVICE, roomy.deviceReport().path());
        assertEquals(allocated + state, device.allocatedBytes(), "one shadow per field");
        roomy.capture(t);
        assertEquals(allocated + state, device.allocatedBytes(), "shadows are reused");
    }

    /** A trainer whose every field has a different problem. */
    static final class BadTrainer {
        @TrainState
        CUdeviceptr middle = new CUdeviceptr();

        @TrainState
        Pointer host = new Pointer(); // cuMemAllocHost's page-locked host memory

        @TrainState
        Pointer javaArray = Pointer.to(new float[4]);

        @TrainState(dtype = "F32", shape = {3, 4})
        CUdeviceptr wrongShape = new CUdeviceptr();

        @TrainState(dtype = "F32")
        CUdeviceptr oddBytes = new CUdeviceptr();

        @TrainState(dtype = "Q7")
        CUdeviceptr unknownDtype = new CUdeviceptr();

        @TrainState
        CUdeviceptr nowhere = new CUdeviceptr();
    }

    @Test
    void everyBadFieldIsListedOnceWithItsFix() {
        BadTrainer t = new BadTrainer();
        long block = device.appAllocate(HostDeviceMemory.CONTEXT, 64, (byte) 0);
        device.setAddress(t.middle, block + 16);
        device.setAddress(t.host, 0x5555_0000_1000L);
        device.setAddress(t.wrongShape, device.appAllocate(HostDeviceMemory.CONTEXT, 40, (byte) 0));
        device.setAddress(t.oddBytes, device.appAllocate(HostDeviceMemory.CONTEXT, 10, (byte) 0));
        device.setAddress(t.unknownDtype, device.appAllocate(HostDeviceMemory.CONTEXT, 8, (byte) 0));
        device.clearEvents();
        StateSchema schema = StateSchema.of(BadTrainer.class, provider); // start-up: nothing touches the device
        assertTrue(device.events().isEmpty(), device.events().toString());
        StateException e = assertThrows(StateException.class, () -> capture(schema, 0).capture(t));
        String m = e.getMessage();
        assertTrue(m.contains("BadTrainer.middle ('middle'): points 16 bytes into the allocation"), m);
        assertTrue(m.contains("hold the allocation's own pointer"), m);
        assertTrue(m.contains("BadTrainer.host ('host'): holds 0x") && m.contains("which is not device memory"), m);
        assertTrue(m.contains("('wrongShape'): @TrainState(dtype = F32, shape = [3, 4]) needs 48 bytes, the memory"
                + " holds 40"), m);
        assertTrue(m.contains("('oddBytes'): 10 bytes are not a whole number of F32 elements"), m);
        assertTrue(m.contains("('unknownDtype'): @TrainState(dtype = \"Q7\") is not a dtype"), m);
        assertTrue(m.contains("('nowhere'): points nowhere (address 0"), m);
        assertTrue(m.contains("('javaArray'): points nowhere (address 0"), m);
        assertEquals(0, device.depth(Thread.currentThread()));
    }

    static final class SizedTrainer {
        @TrainState(bytes = 24)
        CUdeviceptr sized = new CUdeviceptr();

        @TrainState
        CUdeviceptr unsized = new CUdeviceptr();
    }

    @Test
    void sizeComesFromTheAttributeWhereTheDriverCantTell() throws Exception {
        SizedTrainer t = new SizedTrainer();
        device.setAddress(t.sized, device.appAllocate(HostDeviceMemory.CONTEXT, 24, (byte) 5));
        device.setAddress(t.unsized, device.appAllocate(HostDeviceMemory.CONTEXT, 24, (byte) 6));
        device.sizeUnknown(true);
        StateSchema schema = StateSchema.of(SizedTrainer.class, provider);
        StateException e = assertThrows(StateException.class, () -> capture(schema, 0).capture(t));
        assertTrue(e.getMessage().contains("('unsized'): the CUDA driver can't tell the size of the memory at 0x")
                && e.getMessage().contains("give it with @TrainState(bytes = ...)"), e.getMessage());
        assertFalse(e.getMessage().contains("'sized'"), e.getMessage());
    }

    @Test
    void aSizeDifferentFromTheCheckpointIsAMismatchListedWithTheRest() throws Exception {
        GpuTrainer t = gpuTrainer(1f);
        StateSchema schema = StateSchema.of(GpuTrainer.class, provider);
        LoadedCheckpoint loaded = writeAndRead(tmp.resolve("c"), capture(schema, 0).capture(t));
        GpuTrainer other = gpuTrainer(1f);
        device.setAddress(other.raw, device.appAllocate(HostDeviceMemory.CONTEXT, 50, (byte) 0));
        other.moments = new CUdeviceptr[] {other.moments[0]};
        StateMismatchException m = assertThrows(StateMismatchException.class,
                () -> new StateRestore(schema).restore(other, loaded.entries(), StateRestore.OnMismatch.FAIL));
        String text = String.join("\n", m.mismatches());
        assertTrue(text.contains("reshaped: 'raw'") && text.contains("holds 50 bytes of GPU memory, the checkpoint 100"),
                text);
        assertTrue(text.contains("reshaped: 'moments'") && text.contains("checkpoint has 2 pointers, code has 1"), text);
        List<String> warned = new StateRestore(schema).restore(other, loaded.entries(), StateRestore.OnMismatch.WARN);
        assertEquals(2, warned.size(), warned.toString());
        assertArrayEquals(floats(1f), device.appRead(device.address(other.w), FLOATS * 4));
    }

    @Test
    void aNullFieldIsStoredAsNullAndANullTargetGetsNewMemoryInTheTrainersContext() throws Exception {
        GpuTrainer t = gpuTrainer(3f);
        StateSchema schema = StateSchema.of(GpuTrainer.class, provider);
        LoadedCheckpoint loaded = writeAndRead(tmp.resolve("n"), capture(schema, 0).capture(t));

        GpuTrainer fresh = gpuTrainer(0f);
        fresh.raw = null; // the code creates it lazily
        fresh.moments[1] = new CUdeviceptr(); // allocated lazily too: address 0
        new StateRestore(schema).restore(fresh, loaded.entries(), StateRestore.OnMismatch.FAIL);
        assertNotNull(fresh.raw);
        DeviceMemory.Allocation raw = device.allocationAt(device.address(fresh.raw));
        assertNotNull(raw);
        assertEquals(100, raw.bytes());
        assertEquals(HostDeviceMemory.CONTEXT, raw.context());
        assertArrayEquals(filled(100, 7), device.appRead(device.address(fresh.raw), 100));
        assertArrayEquals(filled(32, 3), device.appRead(device.address(fresh.moments[1]), 32));
        assertNull(fresh.unused);
    }

    @Test
    void atRegistrationOnlyGpuFieldsHoldingAPointerAskForTheDriverAndEachNamesItself() {
        DeviceMemoryProvider broken = loader -> {
            throw new DeviceException("no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)");
        };
        StateSchema schema = StateSchema.of(GpuTrainer.class, broken);
        List<String> problems = schema.deviceProblems(new GpuTrainer());
        // w, raw and moments hold pointer objects; unused is null, as in a CPU run that never made it
        assertEquals(3, problems.size(), String.valueOf(problems));
        for (String field : List.of(".w ", ".raw ", ".moments ")) {
            assertTrue(problems.stream().anyMatch(p -> p.startsWith("the @TrainState field " + GpuTrainer.class.getName()
                    + field) && p.endsWith("can't be used in this JVM: no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)")),
                    field + " in " + problems);
        }
        GpuTrainer cpuOnly = new GpuTrainer();
        cpuOnly.w = null;
        cpuOnly.raw = null;
        cpuOnly.moments = null;
        assertEquals(List.of(), schema.deviceProblems(cpuOnly));
        assertEquals(List.of(), StateSchema.of(GpuTrainer.class, provider)
                .deviceProblems(new GpuTrainer()), "a usable device");
    }

    @Test
    void aDriverThatCantBeUsedIsTheFieldsProblemAndNoJCudaMeansNoDevice() throws Exception {
        GpuTrainer t = gpuTrainer(0f);
        DeviceMemoryProvider broken = loader -> {
            throw new DeviceException("libcuda.so.1: cannot open shared object file");
        };
        StateException e = assertThrows(StateException.class,
                () -> new StateCapture(StateSchema.of(GpuTrainer.class, broken)).capture(t));
        assertTrue(e.getMessage().contains("the @TrainState field " + GpuTrainer.class.getName() + ".w holds GPU"
                + " memory, but the CUDA driver can't be used in this JVM: libcuda.so.1: cannot open shared object"
                + " file"), e.getMessage());

        // resuming such a field in a JVM whose driver can't be used: not a mismatch, the restore can't go on
        LoadedCheckpoint loaded = writeAndRead(tmp.resolve("d"),
                capture(StateSchema.of(GpuTrainer.class, provider), 0).capture(t));
        StateException r = assertThrows(StateException.class, () -> new StateRestore(
                StateSchema.of(GpuTrainer.class, broken)).restore(t, loaded.entries(), StateRestore.OnMismatch.WARN));
        assertFalse(r instanceof StateMismatchException, r.toString());
        assertTrue(r.getMessage().startsWith("pauser: the @TrainState field " + GpuTrainer.class.getName() + ".w holds"
                + " GPU memory, but the CUDA driver can't be used in this JVM: libcuda.so.1"), r.getMessage());

        // the build's default, the CUDA driver through JCuda (on this class path): where it can't be used (no GPU
        // here), the reason DeviceMemories gives is the field's problem
        String reason = null;
        try {
            DeviceMemories.forLoader(GpuTrainer.class.getClassLoader());
        } catch (DeviceException unusable) {
            reason = unusable.getMessage();
        }
        if (reason != null) {
            StateException d = assertThrows(StateException.class,
                    () -> new StateCapture(StateSchema.of(GpuTrainer.class)).capture(t));
            assertTrue(d.getMessage().contains("can't be used in this JVM: " + reason), d.getMessage());
        }
        ClassLoader withoutJCuda = new ClassLoader(null) { };
        assertNull(DeviceMemoryProvider.DEFAULT.forLoader(withoutJCuda));
    }
}
