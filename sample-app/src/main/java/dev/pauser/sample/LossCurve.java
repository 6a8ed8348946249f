package dev.pauser.sample;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.SeriesRenderingOrder;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws loss curves from the sample app's progress lines into a PNG, one series per run, with vertical markers at
 * given steps (pause, kill, resume). A separate tool: the trainer never loads it.
 *
 * <pre>
 * java -cp sample-app/target/sample-app.jar dev.pauser.sample.LossCurve --out loss.png \
 *     --mark 1200=pause --mark 2100=kill -9 \
 *     uninterrupted=whole.log "interrupted and resumed=part1.log+part2.log+part3.log"
 * </pre>
 */
public final class LossCurve {
    static final Pattern PROGRESS = Pattern.compile("^step (\\d+)/\\d+ .*?loss (\\S+) ");
    static final String USAGE = String.join("\n",
            "usage: java -cp sample-app.jar dev.pauser.sample.LossCurve --out FILE.png [--title TEXT]",
            "         [--mark STEP=LABEL]... LABEL=LOG[+LOG]...",
            "  each series is the progress lines (--log-every) of one or more sample-app runs in order;",
            "  a restarted run's lines continue the series");

    private LossCurve() {
    }

    /** One series: the loss at each logged step; a later log wins where logs overlap. */
    static TreeMap<Long, Double> read(List<Path> logs) throws IOException {
        TreeMap<Long, Double> points = new TreeMap<>();
        for (Path log : logs) {
            for (String line : Files.readAllLines(log)) {
                Matcher m = PROGRESS.matcher(line);
                if (m.find()) {
                    points.put(Long.parseLong(m.group(1)), Double.parseDouble(m.group(2)));
                }
            }
        }
        return points;
    }

    static void draw(String title, Map<String, TreeMap<Long, Double>> series, Map<Long, String> marks, File out)
            throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Map.Entry<String, TreeMap<Long, Double>> s : series.entrySet()) {
            XYSeries xy = new XYSeries(s.getKey(), true, false);
            s.getValue().forEach((step, loss) -> {
                if (loss > 0) {
                    xy.add((double) step, loss);
                }
            });
            data.addSeries(xy);
        }
        LogAxis lossAxis = new LogAxis("training loss (mini-batch)");
        lossAxis.setSmallestValue(1e-6);
        lossAxis.setTickUnit(new NumberTickUnit(1)); // a tick at each power of ten
        lossAxis.setNumberFormatOverride(new DecimalFormat("0.######"));
        NumberAxis stepAxis = new NumberAxis("step");
        stepAxis.setAutoRangeIncludesZero(true);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        Color[] colors = {new Color(0x9ecae1), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)};
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesPaint(i, colors[i % colors.length]);
            // the first series wide and pale, the later ones thin and dashed on top: where they coincide, both show
            renderer.setSeriesStroke(i, i == 0 ? new BasicStroke(6f)
                    : new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        }
        XYPlot plot = new XYPlot(data, stepAxis, lossAxis, renderer);
        plot.setSeriesRenderingOrder(SeriesRenderingOrder.FORWARD); // later series on top
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        int row = 0;
        for (Map.Entry<Long, String> m : marks.entrySet()) {
            ValueMarker marker = new ValueMarker(m.getKey(), Color.DARK_GRAY, new BasicStroke(1f));
            marker.setLabel(m.getValue() + " @ " + m.getKey());
            marker.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            marker.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
            marker.setLabelTextAnchor(TextAnchor.TOP_LEFT);
            marker.setLabelOffset(new RectangleInsets(4 + 18 * row++, 4, 4, 4)); // labels one under another
            plot.addDomainMarker(marker);
        }
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(out, chart, 1000, 560);
    }

    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        String out = null;
        String title = "sample-app loss";
        Map<Long, String> marks = new TreeMap<>();
        Map<String, TreeMap<Long, Double>> series = new java.util.LinkedHashMap<>();
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--out" -> out = value(args, ++i, a);
                    case "--title" -> title = value(args, ++i, a);
                    case "--mark" -> {
                        String v = value(args, ++i, a);
                        int eq = v.indexOf('=');
                        if (eq <= 0) {
                            throw new IllegalArgumentException("bad --mark '" + v + "': expected STEP=LABEL");
                        }
                        marks.put(Long.parseLong(v.substring(0, eq)), v.substring(eq + 1));
                    }
                    default -> {
                        int eq = a.indexOf('=');
                        if (a.startsWith("--") || eq <= 0) {
                            throw new IllegalArgumentException("bad argument '" + a + "'");
                        }
                        List<Path> logs = new ArrayList<>();
                        for (String p : a.substring(eq + 1).split("\\+")) {
                            logs.add(Path.of(p));
                        }
                        series.put(a.substring(0, eq), read(logs));
                    }
                }
            }
            if (out == null || series.isEmpty()) {
                throw new IllegalArgumentException("need --out and at least one series");
            }
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("loss-curve: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        draw(title, series, marks, new File(out));
        System.out.println("wrote " + out);
    }

    private static String value(String[] args, int i, String name) {
        if (i >= args.length) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        return args[i];
    }
}
