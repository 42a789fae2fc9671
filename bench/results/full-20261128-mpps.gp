set terminal pngcairo size 960,600 font ',11'
set output 'bench/results/full-20261128-mpps.png'
set title 'Throughput against rule count (one CPU, veth, spread traffic)'
set xlabel 'rules'
set ylabel 'Mpps received'
set logscale xy
set grid
set key outside right
set format x '10^{%L}'

set linetype 1 lc rgb '#000000'
set linetype 2 lc rgb '#e69f00'
set linetype 3 lc rgb '#56b4e9'
set linetype 4 lc rgb '#009e73'
set linetype 5 lc rgb '#d55e00'
set linetype 6 lc rgb '#0072b2'
set linetype 7 lc rgb '#cc79a7'
set linetype 8 lc rgb '#999999'
set linetype cycle 8
$s0 << EOD
1 6.1524
100 5.1277
1000 4.9845
10000 3.4166
100000 1.1611
EOD
$s1 << EOD
1 6.49115
100 6.40755
1000 6.4735
10000 6.4275
100000 6.2561
EOD
$s2 << EOD
1 1.0757
100 0.9875
1000 0.9318
10000 0.7803
100000 0.5548
EOD
$s3 << EOD
1 1.0807
100 1.09215
1000 1.0796
10000 1.06135
100000 1.0748
EOD
$s4 << EOD
1 1.7309
100 0.546
1000 0.0857
10000 0.0087
100000 0.0007
EOD
$s5 << EOD
1 1.5598
100 0.9832
1000 0.4818
10000 0.0987
100000 0.022
EOD
$s6 << EOD
1 1.8109
100 0.6608
1000 0.1057
10000 0.0104
100000 0.0009
EOD
$s7 << EOD
1 0.7164
100 0.3698
1000 0.0789
10000 0.0086
100000 0.0007
EOD
$s8 << EOD
1 0.6585
100 0.4665
1000 0.3057
10000 0.0896
100000 0.0228
EOD
$s9 << EOD
1 0.6833
100 0.4015
1000 0.0952
10000 0.0101
100000 0.0008
EOD
plot $s0 using 1:2 with linespoints lw 2 pt 1 lc 1 dt 1 title 'moat', \
     $s1 using 1:2 with linespoints lw 2 pt 2 lc rgb '#999999' dt 1 title 'baseline', \
     $s2 using 1:2 with linespoints lw 2 pt 1 lc 1 dt 2 title 'moat (afxdp)', \
     $s3 using 1:2 with linespoints lw 2 pt 2 lc rgb '#999999' dt 2 title 'baseline (afxdp)', \
     $s4 using 1:2 with linespoints lw 2 pt 3 lc 3 dt 1 title 'nft-netdev', \
     $s5 using 1:2 with linespoints lw 2 pt 4 lc 4 dt 1 title 'nft-sets', \
     $s6 using 1:2 with linespoints lw 2 pt 5 lc 5 dt 1 title 'iptables-raw', \
     $s7 using 1:2 with linespoints lw 2 pt 3 lc 3 dt 2 title 'nft-netdev (afxdp)', \
     $s8 using 1:2 with linespoints lw 2 pt 4 lc 4 dt 2 title 'nft-sets (afxdp)', \
     $s9 using 1:2 with linespoints lw 2 pt 5 lc 5 dt 2 title 'iptables-raw (afxdp)'
