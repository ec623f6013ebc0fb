(function(){
var slides=Array.prototype.slice.call(document.querySelectorAll('section.slide'));
var counter=document.getElementById('counter');var at=0;
function fit(){var d=document.getElementById('deck');
d.style.setProperty('--scale',Math.min(innerWidth/1280,innerHeight/720));}
function show(n){at=Math.max(0,Math.min(slides.length-1,n));
slides.forEach(function(s,k){s.classList.toggle('current',k===at);});
counter.textContent=(at+1)+' / '+slides.length;history.replaceState(null,'','#'+(at+1));}
document.addEventListener('keydown',function(e){
if(['ArrowRight','ArrowDown','PageDown',' ','Enter'].indexOf(e.key)>=0){show(at+1);e.preventDefault();}
else if(['ArrowLeft','ArrowUp','PageUp','Backspace'].indexOf(e.key)>=0){show(at-1);e.preventDefault();}
else if(e.key==='Home'){show(0);}else if(e.key==='End'){show(slides.length-1);}
else if(e.key==='f'){if(document.fullscreenElement){document.exitFullscreen();}
else if(document.documentElement.requestFullscreen){document.documentElement.requestFullscreen().catch(function(){});}}});
document.addEventListener('click',function(e){if(e.target.closest('a')){return;}
show(e.clientX<innerWidth/3?at-1:at+1);});
addEventListener('resize',fit);fit();
var start=parseInt(location.hash.slice(1),10);show(isNaN(start)?0:start-1);
})();
