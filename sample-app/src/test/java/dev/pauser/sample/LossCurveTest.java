package dev.pauser.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossCurveTest {
    @Test
    void readsProgressLinesAcrossRestartsAndDrawsAPng(@TempDir Path dir) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path whole = dir.resolve("whole.log");
        Path part1 = dir.resolve("part1.log");
        Path part2 = dir.resolve("part2.log");
        Files.writeString(whole, String.join("\n",
                "sample-app: steps=30 ...",
                "step 10/30 epoch 0 loss 1.500000 test-accuracy 0.5000 steps/s 100.0",
                "step 20/30 epoch 0 loss 0.700000 test-accuracy 0.8000 steps/s 100.0",
                "step 30/30 epoch 1 loss 0.200000 test-accuracy 0.9000 steps/s 100.0",
                "accuracy=0.900000", "final-weights-sha256=00"));
        Files.writeString(part1, "step 10/30 epoch 0 loss 1.500000 test-accuracy 0.5000 steps/s 100.0\n");
        Files.writeString(part2, String.join("\n",
                "step 20/30 epoch 0 loss 0.700000 test-accuracy 0.8000 steps/s 50.0",
                "step 30/30 epoch 1 loss 0.200000 test-accuracy 0.9000 steps/s 50.0"));
        TreeMap<Long, Double> a = LossCurve.read(List.of(whole));
        TreeMap<Long, Double> b = LossCurve.read(List.of(part1, part2));
        assertEquals(Map.of(10L, 1.5, 20L, 0.7, 30L, 0.2), a);
        assertEquals(a, b);

        Path png = dir.resolve("loss.png");
        LossCurve.draw("test", new java.util.LinkedHashMap<>(Map.of("whole", a, "resumed", b)),
                Map.of(15L, "kill -9"), png.toFile());
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image);
        assertEquals(1000, image.getWidth());
        assertTrue(Files.size(png) > 1000);
    }
}
