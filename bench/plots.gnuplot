# bench/plots.gnuplot - the pictures of README.md "Results", drawn from bench/run's medians.
#
# The seed study's three pictures (throughput, sends, latency vs size, log-log,
# copy vs zero-copy), the zero-copy/copy ratio, and the shim's lines: what
# `convert` does to that ratio, what `profile` costs, and buffer hold times.
# One panel per transport. Usage: gnuplot -e "dir='bench/results'" bench/plots.gnuplot

if (!exists("dir")) dir = "bench/results"
med = dir."/medians.csv"
rat = dir."/ratios.csv"

set datafile separator ","
set terminal pngcairo size 1500,460 enhanced font "sans,10" linewidth 1.5
set logscale x
set format x "10^{%L}"
set xlabel "message size (bytes)"
set grid
set key top left box opaque samplen 2 font ",9"
set pointsize 0.8

transports = "inproc ipc tcp"
models = "free pool gcthread"
threshold_bytes = 65536

# medians.csv: 1 bench 2 transport 3 variant ... 7 size 9 sends 10 throughput
#              11 latency_us 12 hold_p50_ns
# ratios.csv:  1 bench 2 transport 3 variant ... 6 size 7 sends_ratio
#              8 throughput_ratio 9 latency_ratio 10-12 the same vs no shim
pick(b, t, v, col) = (strcol(1) eq b && strcol(2) eq t && strcol(3) eq v) ? column(col) : NaN
mcolor(m) = m eq "free" ? "#d62728" : m eq "pool" ? "#1f77b4" : m eq "gcthread" ? "#2ca02c" : "black"
threshold_line = sprintf("set arrow 1 from %d, graph 0 to %d, graph 1 nohead dt 3 lc rgb 'gray40'", threshold_bytes, threshold_bytes)

# ---- the seed's three pictures: absolute, copy vs each zero-copy model
do for [k = 1:3] {
	metric = word("throughput sends latency", k)
	bench = k == 3 ? "lat" : "thr"
	col = k == 1 ? 10 : k == 2 ? 9 : 11
	set output dir."/".metric.".png"
	set logscale y
	set format y "10^{%L}"
	set ylabel (k == 3 ? "one-way latency (us), lower is better" : "msgs/s")
	set multiplot layout 1,3 title (k == 1 ? "Throughput: PUSH/PULL msgs/s, first to last receive" : \
		k == 2 ? "Sends: PUSH msgs/s seen by the sender (send calls only)" : \
		"Latency: REQ/REP round trip / 2") font ",12"
	do for [t in transports] {
		set title t
		plot med using 7:(pick(bench, t, "copy", col)) with linespoints lc rgb "black" pt 7 title "copy", \
			for [m in models] med using 7:(pick(bench, t, m, col)) with linespoints lc rgb mcolor(m) pt 5 title "zero-copy ".m
	}
	unset multiplot
}

# ---- zero-copy / copy, every metric and transport
set output dir."/ratio.png"
set terminal pngcairo size 1500,1200
set logscale y
set format y "%g"
@threshold_line
set multiplot layout 3,3 title "Zero-copy / copy, same size (no shim): above 1 zero-copy wins for throughput and sends, loses for latency" font ",12"
do for [k = 1:3] {
	metric = word("throughput sends latency", k)
	bench = k == 3 ? "lat" : "thr"
	col = k == 1 ? 8 : k == 2 ? 7 : 9
	set ylabel metric." ratio zc/copy"
	do for [t in transports] {
		set title metric." - ".t
		plot 1 with lines lc rgb "black" dt 2 notitle, \
			for [m in models] rat using 6:(pick(bench, t, m, col)) with linespoints lc rgb mcolor(m) pt 5 title m
	}
}
unset multiplot

# ---- what convert does to the ratio: each model with and without the shim
set output dir."/convert.png"
set multiplot layout 3,3 title "ZCSHIM\\_MODE=convert (threshold 64 KiB, dotted) vs no shim: zero-copy / copy; dashed = convert" font ",12"
do for [k = 1:3] {
	metric = word("throughput sends latency", k)
	bench = k == 3 ? "lat" : "thr"
	col = k == 1 ? 8 : k == 2 ? 7 : 9
	set ylabel metric." ratio zc/copy"
	do for [t in transports] {
		set title metric." - ".t
		plot 1 with lines lc rgb "black" dt 2 notitle, \
			for [m in models] rat using 6:(pick(bench, t, m, col)) with linespoints lc rgb mcolor(m) pt 5 title m, \
			for [m in models] rat using 6:(pick(bench, t, m."+convert", col)) with linespoints lc rgb mcolor(m) dt 2 pt 4 title m."+convert"
	}
}
unset multiplot

# ---- what profile costs in the sweep: each model under profile / without shim
set output dir."/profile.png"
set multiplot layout 3,3 title "ZCSHIM\\_MODE=profile (ZCSHIM\\_SAMPLE=1) / no shim, same zero-copy model and size: below 1 (above for latency) is the shim's cost" font ",12"
do for [k = 1:3] {
	metric = word("throughput sends latency", k)
	bench = k == 3 ? "lat" : "thr"
	col = k == 1 ? 11 : k == 2 ? 10 : 12
	set ylabel metric." ratio profile/none"
	set yrange [0.25:4]
	do for [t in transports] {
		set title metric." - ".t
		plot 1 with lines lc rgb "black" dt 2 notitle, \
			for [m in models] rat using 6:(pick(bench, t, m."+profile", col)) with linespoints lc rgb mcolor(m) pt 5 title m
	}
}
unset multiplot
set autoscale y

# ---- buffer hold time (zmq_msg_init_data -> ffn) as the shim records it
set output dir."/hold.png"
set terminal pngcairo size 1500,820
unset arrow 1
@threshold_line
set logscale y
set format y "10^{%L}"
set multiplot layout 2,3 title "Hold time p50, zmq\\_msg\\_init\\_data to ffn (zcshim-stat): profile (solid) vs convert (dashed)" font ",12"
do for [b in "thr lat"] {
	set ylabel "hold p50 (ns), ".b
	do for [t in transports] {
		set title b." - ".t
		plot for [m in models] med using 7:(pick(b, t, m."+profile", 12)) with linespoints lc rgb mcolor(m) pt 5 title m, \
			for [m in models] med using 7:(pick(b, t, m."+convert", 12)) with linespoints lc rgb mcolor(m) dt 2 pt 4 title m."+convert"
	}
}
unset multiplot
