set terminal pngcairo size 960,600 font ',11'
set output 'bench/results/acl-20261128-mpps.png'
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
1 5.73302
100 4.92521
1000 4.66103
10000 2.1248
100000 0.76178
EOD
$s1 << EOD
1 5.69323
100 6.36425
1000 6.10278
10000 6.07304
100000 4.32987
EOD
$s2 << EOD
1 1.01774
100 0.749529
1000 0.907568
10000 0.632847
100000 0.473296
EOD
$s3 << EOD
1 1.04395
100 0.861835
1000 0.91179
10000 0.922534
100000 0.886688
EOD
$s4 << EOD
1 1.51541
100 0.50094
1000 0.0754191
10000 0.00697395
100000 0.000564185
EOD
$s5 << EOD
1 1.31872
100 0.846664
1000 0.458978
10000 0.0718372
100000 0.0193542
EOD
$s6 << EOD
1 1.8098
100 0.492068
1000 0.0948307
10000 0.00734663
100000 0.000801245
EOD
$s7 << EOD
1 0.538066
100 0.340383
1000 0.0590167
10000 0.00716446
100000 0.000606358
EOD
$s8 << EOD
1 0.611851
100 0.405936
1000 0.294164
10000 0.0635336
100000 0.0222121
EOD
$s9 << EOD
1 0.69134
100 0.360419
1000 0.0929306
10000 0.00772312
100000 0.000709709
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
