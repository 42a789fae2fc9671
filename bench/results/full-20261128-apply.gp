set terminal pngcairo size 960,600 font ',11'
set output 'bench/results/full-20261128-apply.png'
set title 'Ruleset apply time against rule count (text to enforcement)'
set xlabel 'rules'
set ylabel 'ms'
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
1 23.993
100 27.932
1000 55.45
10000 106.828
100000 890.682
EOD
$s1 << EOD
1 2.642
100 6.09
1000 45.265
10000 424.985
100000 4470.6
EOD
$s2 << EOD
1 2.692
100 4.951
1000 26.131
10000 163.367
100000 1732.27
EOD
$s3 << EOD
1 23.659
100 23.502
1000 66.479
10000 402.758
100000 3002.06
EOD
plot $s0 using 1:2 with linespoints lw 2 pt 1 lc 1 dt 1 title 'moat', \
     $s1 using 1:2 with linespoints lw 2 pt 2 lc 2 dt 1 title 'nft-netdev', \
     $s2 using 1:2 with linespoints lw 2 pt 3 lc 3 dt 1 title 'nft-sets', \
     $s3 using 1:2 with linespoints lw 2 pt 4 lc 4 dt 1 title 'iptables-raw'
